package main

import (
	"strings"
	"testing"
)

const agentTemplateFixture = `{
  "metrics": {
    "namespace": "${metrics_namespace}",
    "append_dimensions": {"AutoScalingGroupName": "$${aws:AutoScalingGroupName}"},
    %s
    "metrics_collected": {
      "mem": {"measurement": ["mem_used_percent"]},
      "disk": {"measurement": ["used_percent"], "resources": ["/"], "drop_device": true}
    }
  },
  "logs": {"metrics_collected": {"prometheus": {"emf_processor": {"metric_declaration": [
    {"dimensions": [["event"]], "metric_selectors": ["^app_uploads_total$"]}
  ]}}}}
}`

// alarm renders a custom-namespace alarm on metric with the given dimensions expression.
func alarm(name, metric, dims string) string {
	return `
resource "aws_cloudwatch_metric_alarm" "` + name + `" {
  namespace   = var.namespace
  metric_name = "` + metric + `"
  dimensions  = ` + dims + `
}`
}

func TestCheckAgentMetrics(t *testing.T) {
	const asgDims = `{ AutoScalingGroupName = var.asg }`
	tests := []struct {
		name        string
		aggregation string
		alarms      string
		want        []string
	}{
		{
			name:   "memory by group, uploads by event",
			alarms: alarm("mem", "mem_used_percent", asgDims) + alarm("up", "app_uploads_total", `{ event = "failed" }`),
		},
		{
			name:   "disk by group alone needs an aggregation",
			alarms: alarm("disk", "disk_used_percent", "local.asg_dims"),
			want:   []string{`"disk_used_percent" is published with dimensions {AutoScalingGroupName,fstype,path}, not {AutoScalingGroupName}`},
		},
		{
			name:        "disk by group with the aggregation",
			aggregation: `"aggregation_dimensions": [["AutoScalingGroupName"]],`,
			alarms:      alarm("disk", "disk_used_percent", "local.asg_dims"),
		},
		{
			name:   "wrong metric name and EMF dimensions",
			alarms: alarm("mem", "used_percent", asgDims) + alarm("up", "app_uploads_total", `{ event = "failed", job = "app" }`),
			want:   []string{`no metric "used_percent"`, `"app_uploads_total" is published with dimensions {event}, not {event,job}`},
		},
		{
			name: "AWS namespaces are not the agent's",
			alarms: `resource "aws_cloudwatch_metric_alarm" "cpu" {
  namespace   = "AWS/EC2"
  metric_name = "CPUCreditBalance"
  dimensions  = { AutoScalingGroupName = "x" }
}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{
				"deploy/cloudwatch-agent.json.tftpl": strings.Replace(agentTemplateFixture, "%s", tt.aggregation, 1),
				"tf/env/main.tf": `
module "compute" {
  source = "../modules/compute"
}
module "monitoring" {
  source = "../modules/monitoring"
}`,
				"tf/modules/compute/main.tf": `
locals {
  deploy_dir = "${path.module}/../../../deploy"
  agent = templatefile("${local.deploy_dir}/cloudwatch-agent.json.tftpl", {
    metrics_namespace = "ns"
  })
}`,
				"tf/modules/monitoring/main.tf": `
variable "asg" {
  type = string
}
variable "namespace" {
  type = string
}
locals {
  asg_dims = { AutoScalingGroupName = var.asg }
}
` + tt.alarms,
			})
			got, err := checkAgentMetrics(dir + "/tf")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d findings, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("finding %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}
