# Internet-facing Application Load Balancer: HTTPS (ACM, TLS 1.3/1.2), HTTP only to redirect.

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "We-Upload ALB: HTTP/HTTPS from anywhere, to the app only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-alb" })
}

# The service is public: the world reaches 443, and 80 only to be redirected.
resource "aws_vpc_security_group_ingress_rule" "https" {
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from the internet"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "http" {
  security_group_id = aws_security_group.alb.id
  description       = "HTTP from the internet (redirected to HTTPS)"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "to_app" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the app instances (traffic and health checks)"
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = var.app_security_group_id
}

#tfsec:ignore:aws-elb-alb-not-public The ALB is the service's public entry point by design (browsers and share-link recipients on the internet); only 80/443 are open and 80 only redirects.
resource "aws_lb" "this" {
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.subnet_ids
  security_groups            = [aws_security_group.alb.id]
  idle_timeout               = var.idle_timeout_seconds
  drop_invalid_header_fields = true
  desync_mitigation_mode     = "strictest"
  enable_http2               = true
  enable_deletion_protection = var.deletion_protection
  # Append the client address to X-Forwarded-For; the app trusts it only from the VPC CIDR.
  xff_header_processing_mode = "append"

  dynamic "access_logs" {
    for_each = var.access_logs_bucket == null ? [] : [var.access_logs_bucket]
    content {
      bucket  = access_logs.value
      prefix  = "alb"
      enabled = true
    }
  }

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_lb_target_group" "app" {
  name                 = "${var.name}-app"
  port                 = var.app_port
  protocol             = "HTTP"
  vpc_id               = var.vpc_id
  target_type          = "instance"
  deregistration_delay = var.deregistration_delay_seconds

  # The Auto Scaling group uses these checks too (health_check_type = "ELB"). Trade-off of
  # unhealthy_threshold: 6 x 15 s = 90 s before a target stops getting traffic and is marked
  # for replacement. Shorter would stop routing to one broken instance sooner, but a typical
  # RDS Multi-AZ failover (60-120 s) fails /readyz on every target at once and would mark the
  # whole fleet unhealthy; longer outages are handled by the group's launch-before-terminate
  # maintenance policy and the /readyz launch gate (modules/compute). 2 x 15 s to be healthy
  # again keeps rollouts short.
  health_check {
    enabled             = true
    path                = var.health_check_path
    protocol            = "HTTP"
    port                = "traffic-port"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 6
  }

  tags = merge(var.tags, { Name = "${var.name}-app" })
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }

  tags = var.tags
}

resource "aws_lb_listener" "http_redirect" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"
    redirect {
      protocol    = "HTTPS"
      port        = "443"
      status_code = "HTTP_301"
    }
  }

  tags = var.tags
}
