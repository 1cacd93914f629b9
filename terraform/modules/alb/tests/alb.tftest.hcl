# terraform test (run in GitHub Actions: needs the AWS provider schema, no credentials).
mock_provider "aws" {}

variables {
  name                  = "weupload-test"
  vpc_id                = "vpc-0123456789abcdef0"
  subnet_ids            = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  certificate_arn       = "arn:aws:acm:eu-central-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  app_security_group_id = "sg-0123456789abcdef0"
}

run "https_listener_and_redirect" {
  command = plan

  assert {
    condition     = aws_lb_listener.https.protocol == "HTTPS" && startswith(aws_lb_listener.https.ssl_policy, "ELBSecurityPolicy-TLS13-")
    error_message = "The HTTPS listener must use a TLS 1.3 policy."
  }
  assert {
    condition     = aws_lb_listener.http_redirect.default_action[0].type == "redirect" && aws_lb_listener.http_redirect.default_action[0].redirect[0].protocol == "HTTPS"
    error_message = "Port 80 must only redirect to HTTPS."
  }
  assert {
    condition     = aws_lb.this.drop_invalid_header_fields
    error_message = "The ALB must drop invalid header fields."
  }
}

run "health_model" {
  command = plan

  assert {
    condition     = aws_lb_target_group.app.health_check[0].path == "/readyz"
    error_message = "Targets are checked on /readyz."
  }
  assert {
    condition     = aws_lb_target_group.app.health_check[0].unhealthy_threshold * aws_lb_target_group.app.health_check[0].interval >= 90
    error_message = "Targets must fail /readyz for 90 s before they are unhealthy (rides out an RDS Multi-AZ failover)."
  }
  assert {
    condition     = tonumber(aws_lb_target_group.app.deregistration_delay) == 30
    error_message = "Deregistration delay must be 30 s (app SHUTDOWN_TIMEOUT is 25 s)."
  }
}

run "deregistration_delay_must_exceed_shutdown_grace" {
  command = plan
  variables {
    deregistration_delay_seconds = 20
  }
  expect_failures = [var.deregistration_delay_seconds]
}

run "only_tls13_policies" {
  command = plan
  variables {
    ssl_policy = "ELBSecurityPolicy-2016-08"
  }
  expect_failures = [var.ssl_policy]
}

run "waf_off_by_default" {
  command = plan

  assert {
    condition     = length(aws_wafv2_web_acl.this) == 0 && length(aws_wafv2_web_acl_association.this) == 0
    error_message = "No WAF unless asked for."
  }
}

run "waf_on" {
  command = plan
  variables {
    waf         = { enabled = true }
    kms_key_arn = "arn:aws:kms:eu-central-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  }

  assert {
    condition     = aws_wafv2_web_acl.this[0].scope == "REGIONAL" && length(aws_wafv2_web_acl_association.this) == 1
    error_message = "The web ACL must be regional and associated with the ALB."
  }
  assert {
    condition     = startswith(aws_cloudwatch_log_group.waf[0].name, "aws-waf-logs-")
    error_message = "WAF logs only to log groups named aws-waf-logs-*."
  }
}
