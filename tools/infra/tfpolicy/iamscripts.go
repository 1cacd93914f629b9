package main

// The instance scripts' side of the IAM contract: every `aws SERVICE COMMAND` the scripts run
// must be a contract call, and every contract call of source "admin-script" must still be run
// by a script. The scripts are parsed as shell (mvdan.cc/sh), so calls in pipelines, command
// substitutions and conditions are all found.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// scriptSource is the contract source of calls made by the instance scripts.
const scriptSource = "admin-script"

// cliOnlyCommands are AWS CLI commands that are not API names; value: the API they call.
var cliOnlyCommands = map[string]string{
	"ecr get-login-password": "ecr:GetAuthorizationToken",
}

// cliServices maps AWS CLI service names that differ from the IAM service prefix.
var cliServices = map[string]string{"s3api": "s3"}

// scriptCall is one `aws` command found in a script.
type scriptCall struct {
	API   string // e.g. ssm:GetParameter
	Where string // file:line and the command
}

// scriptAWSCalls returns the AWS CLI calls of the shell script at path.
func scriptAWSCalls(path string) ([]scriptCall, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	file, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(f, path)
	if err != nil {
		return nil, err
	}
	var calls []scriptCall
	var walkErr error
	syntax.Walk(file, func(n syntax.Node) bool {
		ce, ok := n.(*syntax.CallExpr)
		if !ok || len(ce.Args) == 0 || ce.Args[0].Lit() != "aws" {
			return true
		}
		at := fmt.Sprintf("%s:%d", path, ce.Pos().Line())
		if len(ce.Args) < 3 {
			walkErr = fmt.Errorf("%s: aws without a service and a command", at)
			return false
		}
		service, command := ce.Args[1].Lit(), ce.Args[2].Lit()
		if service == "" || command == "" || strings.HasPrefix(service, "-") || strings.HasPrefix(command, "-") {
			walkErr = fmt.Errorf("%s: write aws calls as `aws SERVICE COMMAND [options]` with literal words, so this check can read them", at)
			return false
		}
		api, ok := cliOnlyCommands[service+" "+command]
		if !ok {
			if s, ok := cliServices[service]; ok {
				service = s
			}
			api = service + ":" + pascal(command)
		}
		calls = append(calls, scriptCall{API: api, Where: fmt.Sprintf("%s aws %s %s", at, ce.Args[1].Lit(), command)})
		return true
	})
	return calls, walkErr
}

// pascal turns a CLI command (get-secret-value) into its API name (GetSecretValue).
func pascal(command string) string {
	var b strings.Builder
	for _, part := range strings.Split(command, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// checkScripts compares the scripts' AWS CLI calls with the contract's calls.
func checkScripts(contractDir string, scripts []string, calls []contractCall) ([]string, error) {
	listed := map[string]bool{}
	for _, c := range calls {
		listed[c.API] = true
	}
	made := map[string]bool{}
	var findings []string
	for _, s := range scripts {
		found, err := scriptAWSCalls(filepath.Join(contractDir, s))
		if err != nil {
			return nil, err
		}
		for _, c := range found {
			made[c.API] = true
			if !listed[c.API] {
				findings = append(findings, fmt.Sprintf("UNLISTED: %s (%s) is not in the contract: add the call with its action, resource and condition keys", c.Where, c.API))
			}
		}
	}
	for _, c := range calls {
		if c.Source == scriptSource && !made[c.API] {
			findings = append(findings, fmt.Sprintf("STALE: the contract lists %s for the scripts, but none of %s calls it", c.String(), strings.Join(scripts, ", ")))
		}
	}
	return findings, nil
}
