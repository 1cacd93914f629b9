# Alarms to an encrypted SNS topic, and one dashboard. Only free AWS metrics plus the agent's
# few custom ones (see deploy/aws/cloudwatch-agent.json.tftpl) are used.

data "aws_region" "current" {}

locals {
  region        = data.aws_region.current.region
  topic_actions = [aws_sns_topic.alarms.arn]
  alb_count     = var.alb_enabled ? 1 : 0
  alb_dims      = { LoadBalancer = var.alb_arn_suffix }
  tg_dims       = { LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix }
  db_dims       = { DBInstanceIdentifier = var.db_instance_identifier }
  asg_dims      = { AutoScalingGroupName = var.autoscaling_group_name }
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

# --- Load balancer ----------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "alb_5xx_rate" {
  count               = local.alb_count
  alarm_name          = "${var.name}-alb-5xx-rate"
  alarm_description   = "More than ${var.error_rate_percent}% of requests answered 5xx by the load balancer itself (no healthy target, timeouts) over 5 minutes."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.error_rate_percent
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.topic_actions
  ok_actions          = local.topic_actions

  metric_query {
    id          = "rate"
    expression  = "IF(requests >= 20, 100 * errors / requests, 0)"
    label       = "ELB 5xx %"
    return_data = true
  }
  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_ELB_5XX_Count"
      dimensions  = local.alb_dims
      period      = 300
      stat        = "Sum"
    }
  }
  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      dimensions  = local.alb_dims
      period      = 300
      stat        = "Sum"
    }
  }
  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "target_5xx_rate" {
  count               = local.alb_count
  alarm_name          = "${var.name}-target-5xx-rate"
  alarm_description   = "More than ${var.error_rate_percent}% of requests answered 5xx by the app over 5 minutes."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.error_rate_percent
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.topic_actions
  ok_actions          = local.topic_actions

  metric_query {
    id          = "rate"
    expression  = "IF(requests >= 20, 100 * errors / requests, 0)"
    label       = "Target 5xx %"
    return_data = true
  }
  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      dimensions  = local.tg_dims
      period      = 300
      stat        = "Sum"
    }
  }
  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      dimensions  = local.tg_dims
      period      = 300
      stat        = "Sum"
    }
  }
  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts" {
  count               = local.alb_count
  alarm_name          = "${var.name}-unhealthy-targets"
  alarm_description   = "At least one target failed /readyz for 3 minutes (it gets no traffic; check its dependencies and logs)."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = local.tg_dims
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.topic_actions
  ok_actions          = local.topic_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "no_healthy_hosts" {
  count               = local.alb_count
  alarm_name          = "${var.name}-no-healthy-targets"
  alarm_description   = "No target passes /readyz: the service is down (the ALB fails open to all targets)."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HealthyHostCount"
  dimensions          = local.tg_dims
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 2
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = local.topic_actions
  ok_actions          = local.topic_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "latency_p99" {
  count               = local.alb_count
  alarm_name          = "${var.name}-latency-p99"
  alarm_description   = "p99 response time of the app above ${var.latency_p99_seconds}s in 3 of the last 5 minutes."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  dimensions          = local.tg_dims
  extended_statistic  = "p99"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.latency_p99_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.topic_actions
  ok_actions          = local.topic_actions
  tags                = var.tags
}

# --- Instances --------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "in_service" {
  alarm_name          = "${var.name}-instances-below-minimum"
  alarm_description   = "Fewer in-service app instances than the group's minimum for 10 minutes (launches failing or instances abandoned by the health gate)."
  namespace           = "AWS/AutoScaling"
  metric_name         = "GroupInServiceInstances"
  dimensions          = local.asg_dims
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "LessThanThreshold"
  threshold           = var.min_instances
  treat_missing_data  = "breaching"
  alarm_actions       = local.topic_actions
  ok_actions          = local.topic_actions
  tags                = var.tags
}

# Memory and root-disk use from the CloudWatch agent (deploy/aws/cloudwatch-agent.json.tftpl):
# metric names and dimensions must match what the agent emits exactly (tfpolicy checks them).
# The disk metric carries only AutoScalingGroupName through the agent's aggregation_dimensions.
resource "aws_cloudwatch_metric_alarm" "memory" {
  alarm_name          = "${var.name}-memory"
  alarm_description   = "An app instance used more than ${var.memory_alarm_percent}% of its memory for 15 minutes (GOMEMLIMIT is 75%; the kernel may kill the container)."
  namespace           = var.metrics_namespace
  metric_name         = "mem_used_percent"
  dimensions          = local.asg_dims
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.memory_alarm_percent
  treat_missing_data  = "missing"
  alarm_actions       = local.topic_actions
  ok_actions          = local.topic_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "disk" {
  alarm_name          = "${var.name}-disk"
  alarm_description   = "An app instance's root file system is more than ${var.disk_alarm_percent}% full (images, logs)."
  namespace           = var.metrics_namespace
  metric_name         = "disk_used_percent"
  dimensions          = local.asg_dims
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.disk_alarm_percent
  treat_missing_data  = "missing"
  alarm_actions       = local.topic_actions
  ok_actions          = local.topic_actions
  tags                = var.tags
}

# Burstable instances only: at a zero balance a "standard" instance is throttled to its
# baseline, an "unlimited" one starts paying for surplus credits.
resource "aws_cloudwatch_metric_alarm" "cpu_credits" {
  count               = var.burstable ? 1 : 0
  alarm_name          = "${var.name}-cpu-credits"
  alarm_description   = "An app instance has fewer than ${var.cpu_credit_alarm_balance} CPU credits left (throttling, or surplus charges with unlimited credits)."
  namespace           = "AWS/EC2"
  metric_name         = "CPUCreditBalance"
  dimensions          = local.asg_dims
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "LessThanThreshold"
  threshold           = var.cpu_credit_alarm_balance
  treat_missing_data  = "missing"
  alarm_actions       = local.topic_actions
  ok_actions          = local.topic_actions
  tags                = var.tags
}

# --- Database ---------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "db_cpu" {
  alarm_name          = "${var.name}-db-cpu"
  alarm_description   = "RDS CPU above 80% for 15 minutes."
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  dimensions          = local.db_dims
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 80
  treat_missing_data  = "missing"
  alarm_actions       = local.topic_actions
  ok_actions          = local.topic_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "db_free_storage" {
  alarm_name          = "${var.name}-db-free-storage"
  alarm_description   = "RDS free storage below 20% of ${var.db_allocated_storage_gb} GiB."
  namespace           = "AWS/RDS"
  metric_name         = "FreeStorageSpace"
  dimensions          = local.db_dims
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "LessThanThreshold"
  threshold           = floor(var.db_allocated_storage_gb * 0.2 * 1073741824)
  treat_missing_data  = "missing"
  alarm_actions       = local.topic_actions
  ok_actions          = local.topic_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "db_connections" {
  alarm_name          = "${var.name}-db-connections"
  alarm_description   = "More than ${var.db_connections_threshold} database connections for 10 minutes (instances x DB_MAX_CONNS approaching max_connections)."
  namespace           = "AWS/RDS"
  metric_name         = "DatabaseConnections"
  dimensions          = local.db_dims
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.db_connections_threshold
  treat_missing_data  = "missing"
  alarm_actions       = local.topic_actions
  ok_actions          = local.topic_actions
  tags                = var.tags
}

# --- App (custom metric from the CloudWatch agent's Prometheus scrape) -------------------------

resource "aws_cloudwatch_metric_alarm" "upload_failures" {
  alarm_name          = "${var.name}-upload-failures"
  alarm_description   = "More than ${var.upload_failures_threshold} uploads failed verification or completion in 15 minutes (weupload_uploads_total{event=\"failed\"})."
  namespace           = var.metrics_namespace
  metric_name         = "weupload_uploads_total"
  dimensions          = { event = "failed" }
  statistic           = "Sum"
  period              = 900
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.upload_failures_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.topic_actions
  ok_actions          = local.topic_actions
  tags                = var.tags
}

# --- Dashboard --------------------------------------------------------------------------------

locals {
  alb_widgets = var.alb_enabled ? [
    {
      type = "metric", x = 0, y = 0, width = 12, height = 6
      properties = {
        title = "Requests and 5xx", region = local.region, stat = "Sum", period = 60
        metrics = [
          ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", var.alb_arn_suffix],
          [".", "HTTPCode_Target_5XX_Count", ".", ".", "TargetGroup", var.target_group_arn_suffix],
          [".", "HTTPCode_ELB_5XX_Count", ".", "."],
        ]
      }
    },
    {
      type = "metric", x = 12, y = 0, width = 12, height = 6
      properties = {
        title = "Target response time", region = local.region, period = 60
        metrics = [
          ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", var.target_group_arn_suffix, { stat = "p50" }],
          ["...", { stat = "p99" }],
        ]
      }
    },
    {
      type = "metric", x = 0, y = 6, width = 12, height = 6
      properties = {
        title = "Targets", region = local.region, stat = "Minimum", period = 60
        metrics = [
          ["AWS/ApplicationELB", "HealthyHostCount", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", var.target_group_arn_suffix],
          [".", "UnHealthyHostCount", ".", ".", ".", ".", { stat = "Maximum" }],
        ]
      }
    },
  ] : []

  common_widgets = [
    {
      type = "metric", x = 12, y = 6, width = 12, height = 6
      properties = {
        title = "Uploads", region = local.region, stat = "Sum", period = 300
        metrics = [
          [var.metrics_namespace, "weupload_uploads_total", "event", "completed"],
          ["...", "failed"],
        ]
      }
    },
    {
      type = "metric", x = 0, y = 12, width = 12, height = 6
      properties = {
        title = "Database", region = local.region, stat = "Average", period = 300
        metrics = [
          ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", var.db_instance_identifier],
          [".", "DatabaseConnections", ".", ".", { yAxis = "right", stat = "Maximum" }],
        ]
      }
    },
    {
      type = "metric", x = 12, y = 12, width = 12, height = 6
      properties = {
        title = "Instances", region = local.region, period = 300
        metrics = [
          ["AWS/AutoScaling", "GroupInServiceInstances", "AutoScalingGroupName", var.autoscaling_group_name, { stat = "Minimum" }],
          [var.metrics_namespace, "mem_used_percent", "AutoScalingGroupName", var.autoscaling_group_name, { stat = "Maximum", yAxis = "right" }],
          [var.metrics_namespace, "disk_used_percent", "AutoScalingGroupName", var.autoscaling_group_name, { stat = "Maximum", yAxis = "right" }],
        ]
      }
    },
    {
      type = "alarm", x = 0, y = 18, width = 24, height = 4
      properties = {
        title = "Alarms"
        alarms = concat(
          aws_cloudwatch_metric_alarm.alb_5xx_rate[*].arn,
          aws_cloudwatch_metric_alarm.target_5xx_rate[*].arn,
          aws_cloudwatch_metric_alarm.unhealthy_hosts[*].arn,
          aws_cloudwatch_metric_alarm.no_healthy_hosts[*].arn,
          aws_cloudwatch_metric_alarm.latency_p99[*].arn,
          aws_cloudwatch_metric_alarm.cpu_credits[*].arn,
          [
            aws_cloudwatch_metric_alarm.in_service.arn,
            aws_cloudwatch_metric_alarm.memory.arn,
            aws_cloudwatch_metric_alarm.disk.arn,
            aws_cloudwatch_metric_alarm.db_cpu.arn,
            aws_cloudwatch_metric_alarm.db_free_storage.arn,
            aws_cloudwatch_metric_alarm.db_connections.arn,
            aws_cloudwatch_metric_alarm.upload_failures.arn,
          ],
        )
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = concat(local.alb_widgets, local.common_widgets) })
}
