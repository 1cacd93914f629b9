# tflint configuration for every Terraform root and module under terraform/.
# Run through scripts/infra-check.sh, which builds tflint v0.64.0 and tflint-ruleset-aws
# v0.36.0 from tools/infra/tflint and installs the ruleset into TFLINT_PLUGIN_DIR, so no plugin
# download is needed (hence no `source`/`version` on the plugin block).

config {
  # Lint module calls too: variables passed to ../../modules/* are checked with their values.
  call_module_type = "local"
  force            = false
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}

plugin "aws" {
  enabled = true
}

# Each module keeps versions.tf, variables.tf, main.tf, outputs.tf; the environments add
# providers.tf and a backend. These rules match that layout.
rule "terraform_standard_module_structure" {
  enabled = true
}

# Modules are referenced by relative path inside this repository; no registry versions apply.
rule "terraform_module_version" {
  enabled = false
}
