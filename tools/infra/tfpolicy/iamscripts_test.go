package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const testScript = `#!/bin/bash
tag=$(aws ssm get-parameter --name "$P" --query Parameter.Value --output text)
aws ecr get-login-password | docker login --username AWS --password-stdin x >/dev/null
if out=$(aws secretsmanager get-secret-value --secret-id "$S" 2>&1); then echo "$out"; fi
f() { aws autoscaling complete-lifecycle-action --auto-scaling-group-name "$A" || true; }
echo "aws s3 ls is not a call"
`

func writeScript(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s.sh"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestScriptAWSCalls(t *testing.T) {
	dir := writeScript(t, testScript)
	calls, err := scriptAWSCalls(filepath.Join(dir, "s.sh"))
	if err != nil {
		t.Fatal(err)
	}
	var apis []string
	for _, c := range calls {
		apis = append(apis, c.API)
	}
	want := []string{"ssm:GetParameter", "ecr:GetAuthorizationToken", "secretsmanager:GetSecretValue", "autoscaling:CompleteLifecycleAction"}
	if !slices.Equal(apis, want) {
		t.Errorf("calls = %v, want %v", apis, want)
	}
}

func TestCheckScripts(t *testing.T) {
	dir := writeScript(t, testScript)
	calls := []contractCall{
		{Source: scriptSource, API: "ssm:GetParameter"},
		{Source: scriptSource, API: "ecr:GetAuthorizationToken"},
		{Source: scriptSource, API: "autoscaling:CompleteLifecycleAction"},
		{Source: scriptSource, API: "secretsmanager:PutSecretValue", Action: "secretsmanager:PutSecretValue", Resource: "arn:x"},
		{Source: "docker", API: "ecr:BatchGetImage"},
	}
	findings, err := checkScripts(dir, []string{"s.sh"}, calls)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(findings, "\n")
	if len(findings) != 2 || !strings.Contains(joined, "UNLISTED: "+dir+"/s.sh:4 aws secretsmanager get-secret-value") ||
		!strings.Contains(joined, "STALE: the contract lists admin-script secretsmanager:PutSecretValue") {
		t.Errorf("findings:\n%s\nwant the unlisted get-secret-value and the stale put-secret-value", joined)
	}
}

func TestScriptAWSCallsRefusesUnreadable(t *testing.T) {
	for _, src := range []string{"aws --region x ssm get-parameter\n", "aws \"$svc\" get-parameter\n", "aws ssm\n"} {
		dir := writeScript(t, src)
		if _, err := scriptAWSCalls(filepath.Join(dir, "s.sh")); err == nil {
			t.Errorf("%q: no error, want one", src)
		}
	}
}
