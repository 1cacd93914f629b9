package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The launch lifecycle gate (health_gate in deploy/aws/weupload-admin.sh) must wait for the
// same readiness the target group checks (readinessPath), or a release that cannot reach its
// dependencies enters service. The function is run by bash with stubs for the commands it
// calls: aws, curl, imds, image_tag and sleep are shell functions that record their calls (AWS
// and the instance metadata service cannot be reached offline; this is the only way to run it).
func TestHealthGate(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("bash is required in CI")
		}
		t.Skip("bash not installed")
	}
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "deploy", "aws", "weupload-admin.sh"))
	if err != nil {
		t.Fatal(err)
	}
	fn := regexp.MustCompile(`(?ms)^health_gate\(\) \{\n.*?^\}\n`).Find(src)
	if fn == nil {
		t.Fatal("no health_gate() function in weupload-admin.sh")
	}
	const stubs = `
log() { echo "log: $*" >&2; }
imds() { echo i-0123456789; }
image_tag() { echo "$TAG"; }
sleep() { :; }
curl() { echo "curl ${*: -1}" >>"$CALLS"; [ "$APP_UP" = 1 ]; }
aws() { echo "aws $*" >>"$CALLS"; }
`
	tests := []struct {
		name, tag, appUp string
		wantRC           string
		wantCalls        []string
	}{
		{
			name: "ready app", tag: "abc123", appUp: "1", wantRC: "0",
			wantCalls: []string{
				"curl http://127.0.0.1:8080" + readinessPath,
				"aws autoscaling complete-lifecycle-action --auto-scaling-group-name weupload-dev --lifecycle-hook-name app-healthy --instance-id i-0123456789 --lifecycle-action-result CONTINUE",
			},
		},
		{
			name: "never ready", tag: "abc123", appUp: "0", wantRC: "1",
			wantCalls: []string{
				"curl http://127.0.0.1:8080" + readinessPath,
				"curl http://127.0.0.1:8080" + readinessPath,
				"aws autoscaling complete-lifecycle-action --auto-scaling-group-name weupload-dev --lifecycle-hook-name app-healthy --instance-id i-0123456789 --lifecycle-action-result ABANDON",
			},
		},
		{
			name: "no release yet", tag: "none", appUp: "0", wantRC: "0",
			wantCalls: []string{
				"aws autoscaling complete-lifecycle-action --auto-scaling-group-name weupload-dev --lifecycle-hook-name app-healthy --instance-id i-0123456789 --lifecycle-action-result CONTINUE",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := filepath.Join(t.TempDir(), "calls")
			script := stubs + string(fn) + "health_gate\necho \"rc=$?\"\n"
			cmd := exec.Command("bash", "-c", script)
			cmd.Env = append(os.Environ(), "CALLS="+calls, "TAG="+tt.tag, "APP_UP="+tt.appUp,
				"HEALTH_GATE_TIMEOUT=10", "ASG_NAME=weupload-dev", "LIFECYCLE_HOOK=app-healthy")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("bash: %v", err)
			}
			if got := strings.TrimSpace(string(out)); got != "rc="+tt.wantRC {
				t.Errorf("health_gate: %s, want rc=%s", got, tt.wantRC)
			}
			b, _ := os.ReadFile(calls)
			got := strings.Split(strings.TrimSpace(string(b)), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.wantCalls, "\n") {
				t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.wantCalls, "\n"))
			}
		})
	}
}
