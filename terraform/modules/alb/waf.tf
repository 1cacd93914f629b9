# Optional AWS WAF web ACL in front of the ALB: AWS managed rule groups plus a per-IP rate
# limit. Blocked requests are logged (only those: cheap, and they are what a false positive
# needs); allowed ones are already in the ALB access logs.

locals {
  waf_count = var.waf.enabled ? 1 : 0
  # Evaluated in this order after the rate limit. The common rule set's body-size rule would
  # block an upload's /complete request listing many part ETags (bodies over 8 KB): it only
  # counts here; the app limits request bodies itself.
  waf_managed_rule_groups = [
    { name = "AWSManagedRulesAmazonIpReputationList", count_only = [] },
    { name = "AWSManagedRulesKnownBadInputsRuleSet", count_only = [] },
    { name = "AWSManagedRulesCommonRuleSet", count_only = ["SizeRestrictions_BODY"] },
  ]
}

resource "aws_wafv2_web_acl" "this" {
  count       = local.waf_count
  name        = var.name
  description = "We-Upload ALB (${var.name}): managed rule groups and a per-IP rate limit"
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  rule {
    name     = "rate-limit-per-ip"
    priority = 0
    action {
      block {}
    }
    statement {
      rate_based_statement {
        limit                 = var.waf.rate_limit
        evaluation_window_sec = 300
        aggregate_key_type    = "IP"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-rate-limit"
      sampled_requests_enabled   = true
    }
  }

  dynamic "rule" {
    for_each = local.waf_managed_rule_groups
    content {
      name     = rule.value.name
      priority = rule.key + 1
      override_action {
        none {}
      }
      statement {
        managed_rule_group_statement {
          vendor_name = "AWS"
          name        = rule.value.name
          dynamic "rule_action_override" {
            for_each = rule.value.count_only
            content {
              name = rule_action_override.value
              action_to_use {
                count {}
              }
            }
          }
        }
      }
      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "${var.name}-${rule.value.name}"
        sampled_requests_enabled   = true
      }
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = var.name
    sampled_requests_enabled   = true
  }

  tags = var.tags
}

resource "aws_wafv2_web_acl_association" "this" {
  count        = local.waf_count
  resource_arn = aws_lb.this.arn
  web_acl_arn  = aws_wafv2_web_acl.this[0].arn
}

# WAF requires the aws-waf-logs- prefix; the environment's key policy admits this group.
resource "aws_cloudwatch_log_group" "waf" {
  count             = local.waf_count
  name              = "aws-waf-logs-${var.name}"
  retention_in_days = var.waf.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_wafv2_web_acl_logging_configuration" "this" {
  count                   = local.waf_count
  resource_arn            = aws_wafv2_web_acl.this[0].arn
  log_destination_configs = [aws_cloudwatch_log_group.waf[0].arn]

  logging_filter {
    default_behavior = "DROP"
    filter {
      behavior    = "KEEP"
      requirement = "MEETS_ANY"
      condition {
        action_condition {
          action = "BLOCK"
        }
      }
    }
  }
}
