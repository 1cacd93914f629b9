// Command tfpolicy holds the project's own offline checks of the Terraform code, for what the
// pinned scanners cannot see.
//
//	tfpolicy sg DIR       security-group policy (see checkSecurityGroups)
//	tfpolicy ignores DIR  every "#tfsec:ignore:" comment carries a reason
//	tfpolicy ecr DIR      the ECR lifecycle policy never expires a deployed image (ecrlifecycle.go)
//	tfpolicy userdata DIR OUT
//	                      render deploy/aws/user-data.sh.tftpl the way modules/compute does
//	                      (templatefile semantics) with sample values into OUT, check that the
//	                      embedded CloudWatch agent config is valid JSON and that the gzipped
//	                      user data fits EC2's 16 KiB limit (OUT is then shellchecked)
//	tfpolicy ciroles DIR  the CI roles of DIR/modules/github-oidc (see ciroles.go)
//	tfpolicy iamcontract MODULE_DIR CONTRACT
//	                      the instance role allows every call of the contract and nothing
//	                      more (iamcontract.go)
//	tfpolicy workflows REPO_ROOT
//	                      the release path's rules: pinned actions and images, release model,
//	                      concurrency groups, govulncheck, lock files (see workflows.go)
//	tfpolicy rollout DIR  ordering and health rules of the release path (see rollout.go)
//	tfpolicy agent-metrics DIR
//	                      alarms on custom metrics match what the CloudWatch agent emits
//	                      (see agentmetrics.go)
//	tfpolicy fmt DIR      hclwrite formatting check: the fallback for `terraform fmt -check`
//	                      when the Terraform CLI is not installed (hclwrite is the formatter
//	                      terraform fmt is built on; terraform fmt additionally normalises a few
//	                      legacy forms, so CI also runs the real `terraform fmt -check`)
//
// Why "sg": tfsec v1.26.0 (the last tfsec release line; upstream moved to trivy) predates the
// aws_vpc_security_group_ingress_rule / _egress_rule resources that the AWS provider recommends
// since v5, so it does not evaluate them at all. This check restores the guarantee:
//   - no legacy aws_security_group_rule and no inline ingress/egress blocks (so every rule is a
//     resource this check can read);
//   - ingress from the internet (0.0.0.0/0, ::/0) only in modules/alb, and only on 80 and 443;
//   - egress to the internet only on TCP 443;
//   - no "all protocols" (-1) rule to or from the internet.
//
// Exit status 1 on any finding; one line per finding.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

func main() {
	if len(os.Args) == 4 && os.Args[1] == "iamcontract" {
		os.Exit(runIAMContract(os.Args[2], os.Args[3])) // see iamcontract.go
	}
	if len(os.Args) == 4 && os.Args[1] == "iampolicy" {
		os.Exit(runIAMPolicy(os.Args[2], os.Args[3])) // see iampolicy.go
	}
	if len(os.Args) == 4 && os.Args[1] == "userdata" {
		if err := renderUserData(os.Args[2], os.Args[3]); err != nil {
			fmt.Println("tfpolicy userdata:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: tfpolicy sg|ignores|rollout|agent-metrics|fmt DIR | tfpolicy workflows REPO_ROOT | tfpolicy userdata DEPLOY_AWS_DIR OUT | tfpolicy iamcontract MODULE_DIR CONTRACT")
		os.Exit(2)
	}
	files, err := tfFiles(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "tfpolicy:", err)
		os.Exit(2)
	}
	var findings []string
	switch os.Args[1] {
	case "sg":
		findings, err = checkSecurityGroups(files)
	case "ignores":
		findings, err = checkIgnores(files)
	case "fmt":
		findings, err = checkFormat(files)
	case "ciroles":
		findings, err = checkCIRoles(os.Args[2])
	case "workflows":
		findings, err = checkWorkflows(os.Args[2])
	case "rollout":
		findings, err = checkRollout(os.Args[2])
	case "agent-metrics":
		findings, err = checkAgentMetrics(os.Args[2])
	case "ecr":
		findings, err = checkECRLifecycle(os.Args[2])
	default:
		err = fmt.Errorf("unknown check %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tfpolicy:", err)
		os.Exit(2)
	}
	for _, f := range findings {
		fmt.Println(f)
	}
	if len(findings) > 0 {
		os.Exit(1)
	}
	fmt.Printf("tfpolicy %s: %d files, no findings\n", os.Args[1], len(files))
}

func tfFiles(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".terraform" || strings.HasPrefix(d.Name(), ".") && p != root) {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".tf") || strings.HasSuffix(p, ".tfvars") || strings.HasSuffix(p, ".tfvars.example") || strings.HasSuffix(p, ".hcl") || strings.HasSuffix(p, ".hcl.example")) {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

var world = map[string]bool{"0.0.0.0/0": true, "::/0": true}

func checkSecurityGroups(files []string) ([]string, error) {
	var findings []string
	for _, path := range files {
		if !strings.HasSuffix(path, ".tf") {
			continue
		}
		body, err := parseHCL(path)
		if err != nil {
			return nil, err
		}
		inALB := strings.Contains(filepath.ToSlash(path), "modules/alb/")
		for _, b := range body.Blocks {
			if b.Type != "resource" || len(b.Labels) != 2 {
				continue
			}
			kind, name := b.Labels[0], b.Labels[1]
			at := fmt.Sprintf("%s:%d %s.%s", path, b.DefRange().Start.Line, kind, name)
			switch kind {
			case "aws_security_group_rule":
				findings = append(findings, at+": use aws_vpc_security_group_ingress_rule/_egress_rule (checked here) instead of aws_security_group_rule")
			case "aws_security_group", "aws_default_security_group":
				for _, nb := range b.Body.Blocks {
					if nb.Type == "ingress" || nb.Type == "egress" {
						findings = append(findings, at+": inline "+nb.Type+" block; declare rules as separate aws_vpc_security_group_*_rule resources")
					}
				}
			case "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule":
				attrs := b.Body.Attributes
				cidr := literal(attrs["cidr_ipv4"]) + literal(attrs["cidr_ipv6"])
				if !world[cidr] {
					continue
				}
				proto := literal(attrs["ip_protocol"])
				from, to := literal(attrs["from_port"]), literal(attrs["to_port"])
				if proto == "-1" || proto == "all" {
					findings = append(findings, at+": all protocols to/from the internet")
					continue
				}
				if kind == "aws_vpc_security_group_ingress_rule" {
					if !inALB {
						findings = append(findings, at+": ingress from the internet outside modules/alb")
					} else if proto != "tcp" || from != to || (from != "80" && from != "443") {
						findings = append(findings, at+": internet ingress must be TCP 80 or 443")
					}
				} else if proto != "tcp" || from != "443" || to != "443" {
					findings = append(findings, at+": egress to the internet must be TCP 443 only")
				}
			}
		}
	}
	return findings, nil
}

// literal returns the value of a constant attribute as a string ("" when absent or computed).
func literal(a *hclsyntax.Attribute) string {
	if a == nil {
		return ""
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() {
		return ""
	}
	switch v.Type() {
	case cty.String:
		return v.AsString()
	case cty.Number:
		return v.AsBigFloat().Text('f', -1)
	}
	return ""
}

var ignoreRe = regexp.MustCompile(`(?:#|//)\s*tfsec:ignore:([a-z0-9-]+)(\S*)\s*(.*)$`)

func checkIgnores(files []string) ([]string, error) {
	var findings []string
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		for i, line := range strings.Split(string(src), "\n") {
			m := ignoreRe.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			if len(strings.TrimSpace(m[3])) < 30 {
				findings = append(findings, fmt.Sprintf("%s:%d: tfsec:ignore:%s needs a reason (at least a sentence) after the rule id", path, i+1, m[1]))
			}
		}
	}
	return findings, nil
}

func checkFormat(files []string) ([]string, error) {
	var findings []string
	for _, path := range files {
		if strings.HasSuffix(path, ".example") {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if _, diags := hclwrite.ParseConfig(src, path, hcl.InitialPos); diags.HasErrors() {
			findings = append(findings, fmt.Sprintf("%s: %s", path, diags.Error()))
			continue
		}
		if !bytes.Equal(hclwrite.Format(src), src) {
			findings = append(findings, path+": not formatted (run terraform fmt)")
		}
	}
	return findings, nil
}

// renderTemplate evaluates a Terraform template file with string variables, as templatefile()
// does for templates that call no functions.
func renderTemplate(path string, vars map[string]string) (string, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	expr, diags := hclsyntax.ParseTemplate(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return "", diags
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{}}
	for k, v := range vars {
		ctx.Variables[k] = cty.StringVal(v)
	}
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return "", diags
	}
	return v.AsString(), nil
}

func renderUserData(dir, out string) error {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			panic(err)
		}
		return string(b)
	}
	cw, err := renderTemplate(filepath.Join(dir, "cloudwatch-agent.json.tftpl"), map[string]string{
		"metrics_namespace": "WeUpload/dev",
		"boot_log_group":    "/weupload-dev/boot",
		"metrics_log_group": "/weupload-dev/metrics",
	})
	if err != nil {
		return err
	}
	var parsed map[string]any
	if err := json.Unmarshal([]byte(cw), &parsed); err != nil {
		return fmt.Errorf("cloudwatch-agent.json.tftpl does not render to JSON: %w", err)
	}
	if !strings.Contains(cw, "${aws:AutoScalingGroupName}") {
		return fmt.Errorf("cloudwatch-agent.json.tftpl must keep the agent's ${aws:AutoScalingGroupName} placeholder (write it as $${...})")
	}
	ud, err := renderTemplate(filepath.Join(dir, "user-data.sh.tftpl"), map[string]string{
		"instance_env":            "WEUPLOAD_NAME=weupload-dev\nAWS_DEFAULT_REGION=eu-central-1",
		"admin_script":            read("weupload-admin.sh"),
		"systemd_unit":            read("weupload.service"),
		"cloudwatch_agent_config": cw,
		"prometheus_config":       read("prometheus.yaml"),
	})
	if err != nil {
		return err
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	if _, err := w.Write([]byte(ud)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	const limit = 16 << 10
	if gz.Len() > limit {
		return fmt.Errorf("gzipped user data is %d bytes; EC2 allows %d", gz.Len(), limit)
	}
	if err := os.WriteFile(out, []byte(ud), 0o644); err != nil {
		return err
	}
	fmt.Printf("tfpolicy userdata: rendered %d bytes (%d gzipped, limit %d), agent config is valid JSON\n", len(ud), gz.Len(), limit)
	return nil
}
