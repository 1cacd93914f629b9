package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The repository's module keeps deployed images.
func TestECRLifecycleRepo(t *testing.T) {
	findings, err := checkECRLifecycle("../../../terraform")
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) > 0 {
		t.Errorf("findings on the repository:\n%s", strings.Join(findings, "\n"))
	}
}

func TestECRLifecycleFindings(t *testing.T) {
	const vars = `variable "keep_images" { default = 30 }` + "\n"
	rule := func(prio int, sel string) string {
		return `{ rulePriority = ` + strconv.Itoa(prio) + `, description = "r", selection = ` + sel + `, action = { type = "expire" } },`
	}
	const (
		keepDeployed = `{ tagStatus = "tagged", tagPrefixList = ["deployed-"], countType = "imageCountMoreThan", countNumber = 10000 }`
		untagged     = `{ tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 7 }`
		lastN        = `{ tagStatus = "any", countType = "imageCountMoreThan", countNumber = var.keep_images }`
		fewDeployed  = `{ tagStatus = "tagged", tagPatternList = ["deployed-*"], countType = "imageCountMoreThan", countNumber = 50 }`
	)
	tests := []struct {
		name, rules, want string
	}{
		{"keeps deployed images", rule(1, keepDeployed) + rule(2, untagged) + rule(3, lastN), ""},
		{"last 30 images only (the old policy)", rule(1, untagged) + rule(2, lastN), `rule 2 ("r") can expire an image deployed to dev`},
		{"deployed images counted too low", rule(1, fewDeployed) + rule(2, lastN), "rule 1"},
		{"any rule before the keep rule", rule(1, lastN) + rule(2, keepDeployed), "is not the last rule"},
		{"nothing ever expires", rule(1, keepDeployed), "no rule expires images that were never deployed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			mod := filepath.Join(dir, "modules", "ecr")
			if err := os.MkdirAll(mod, 0o755); err != nil {
				t.Fatal(err)
			}
			src := `resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name
  policy     = jsonencode({ rules = [` + tc.rules + `] })
}
`
			if err := os.WriteFile(filepath.Join(mod, "main.tf"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(mod, "variables.tf"), []byte(vars), 0o644); err != nil {
				t.Fatal(err)
			}
			findings, err := checkECRLifecycle(dir)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(findings, "\n")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("findings:\n%s\nwant %q", got, tc.want)
			}
		})
	}
}
