package main

// tfpolicy agent-metrics DIR: every CloudWatch alarm on a custom namespace (namespace not a
// literal "AWS/...") names a metric, with exactly the dimension names, that the CloudWatch
// agent emits. The agent configuration is the template Terraform renders: found as the
// templatefile() call under DIR whose path ends in cloudwatch-agent.json.tftpl. An alarm on a
// metric name or dimension set nobody publishes stays in INSUFFICIENT_DATA forever, silently.
//
// Emitted by the agent: for each metrics_collected plugin, each measurement (named
// PLUGIN_MEASUREMENT unless it already starts with PLUGIN_) with the append_dimensions plus the
// plugin's own dimensions (disk: path, fstype, and device unless drop_device), and each
// aggregation_dimensions set on its own; for the Prometheus EMF processor, each
// metric_declaration's dimension sets for the metrics its selectors match.

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

const agentTemplate = "cloudwatch-agent.json.tftpl"

// pluginDims are the dimensions a CloudWatch agent plugin adds to its measurements.
var pluginDims = map[string][]string{
	"disk":   {"path", "fstype", "device"},
	"diskio": {"name"},
	"cpu":    {"cpu"},
	"net":    {"interface"},
}

type agentConfig struct {
	Metrics struct {
		AppendDimensions      map[string]string          `json:"append_dimensions"`
		AggregationDimensions [][]string                 `json:"aggregation_dimensions"`
		MetricsCollected      map[string]json.RawMessage `json:"metrics_collected"`
	} `json:"metrics"`
	Logs struct {
		MetricsCollected struct {
			Prometheus struct {
				EMF struct {
					Declarations []struct {
						Dimensions [][]string `json:"dimensions"`
						Selectors  []string   `json:"metric_selectors"`
					} `json:"metric_declaration"`
				} `json:"emf_processor"`
			} `json:"prometheus"`
		} `json:"metrics_collected"`
	} `json:"logs"`
}

type agentPlugin struct {
	Measurement []json.RawMessage `json:"measurement"`
	DropDevice  bool              `json:"drop_device"`
}

// emitted maps metric name -> the dimension sets (sorted, comma-joined) it is published with.
type emitted struct {
	exact    map[string]map[string]bool
	patterns []emfDeclaration
}

type emfDeclaration struct {
	selectors []*regexp.Regexp
	dims      map[string]bool
}

func checkAgentMetrics(root string) ([]string, error) {
	tops, err := moduleTrees(root)
	if err != nil {
		return nil, err
	}
	var findings []string
	for _, top := range tops {
		var em *emitted
		walkInstances(top, func(in *instance) {
			if em != nil || err != nil {
				return
			}
			em, err = findAgentConfig(in)
		})
		if err != nil {
			return nil, err
		}
		walkInstances(top, func(in *instance) {
			for _, key := range in.mod.order {
				b := in.mod.blocks[key]
				if b.Type != "resource" || b.Labels[0] != "aws_cloudwatch_metric_alarm" {
					continue
				}
				at := fmt.Sprintf("%s:%d %s", b.DefRange().Filename, b.DefRange().Start.Line, strings.TrimPrefix(key, "resource."))
				for _, msg := range checkAlarmMetric(in, b.Body, em) {
					findings = append(findings, at+": "+msg)
				}
				for _, q := range b.Body.Blocks {
					for _, m := range q.Body.Blocks {
						if q.Type == "metric_query" && m.Type == "metric" {
							for _, msg := range checkAlarmMetric(in, m.Body, em) {
								findings = append(findings, at+": "+msg)
							}
						}
					}
				}
			}
		})
	}
	return dedupe(findings), nil
}

// findAgentConfig renders the agent template if this module instance calls templatefile() on it.
func findAgentConfig(in *instance) (*emitted, error) {
	var found *emitted
	var ferr error
	visit := func(n hclsyntax.Node) hcl.Diagnostics {
		call, ok := n.(*hclsyntax.FunctionCallExpr)
		if !ok || call.Name != "templatefile" || len(call.Args) != 2 || found != nil {
			return nil
		}
		p := exprValue(in, call.Args[0], nil)
		if !p.IsWhollyKnown() || p.Type() != cty.String || filepath.Base(p.AsString()) != agentTemplate {
			return nil
		}
		vars := map[string]string{}
		if obj, ok := call.Args[1].(*hclsyntax.ObjectConsExpr); ok {
			for _, item := range obj.Items {
				if k := hcl.ExprAsKeyword(item.KeyExpr); k != "" {
					vars[k] = "sample-" + k
				}
			}
		}
		found, ferr = agentEmitted(p.AsString(), vars)
		return nil
	}
	for _, a := range in.mod.locals {
		hclsyntax.VisitAll(a.Expr, visit)
	}
	for _, b := range in.mod.blocks {
		hclsyntax.VisitAll(b.Body, visit)
	}
	return found, ferr
}

func agentEmitted(path string, vars map[string]string) (*emitted, error) {
	src, err := renderTemplate(path, vars)
	if err != nil {
		return nil, err
	}
	var cfg agentConfig
	if err := json.Unmarshal([]byte(src), &cfg); err != nil {
		return nil, fmt.Errorf("%s does not render to JSON: %w", path, err)
	}
	em := &emitted{exact: map[string]map[string]bool{}}
	var appended []string
	for k := range cfg.Metrics.AppendDimensions {
		appended = append(appended, k)
	}
	for plugin, raw := range cfg.Metrics.MetricsCollected {
		var p agentPlugin
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, fmt.Errorf("%s: metrics_collected.%s: %w", path, plugin, err)
		}
		dims := append([]string(nil), appended...)
		for _, d := range pluginDims[plugin] {
			if !(d == "device" && p.DropDevice) {
				dims = append(dims, d)
			}
		}
		for _, m := range p.Measurement {
			name := measurementName(m)
			if !strings.HasPrefix(name, plugin+"_") {
				name = plugin + "_" + name
			}
			sets := map[string]bool{dimKey(dims): true}
			for _, agg := range cfg.Metrics.AggregationDimensions {
				sets[dimKey(agg)] = true
			}
			em.exact[name] = sets
		}
	}
	for _, d := range cfg.Logs.MetricsCollected.Prometheus.EMF.Declarations {
		decl := emfDeclaration{dims: map[string]bool{}}
		for _, s := range d.Selectors {
			re, err := regexp.Compile(s)
			if err != nil {
				return nil, fmt.Errorf("%s: metric selector %q: %w", path, s, err)
			}
			decl.selectors = append(decl.selectors, re)
		}
		for _, set := range d.Dimensions {
			decl.dims[dimKey(set)] = true
		}
		em.patterns = append(em.patterns, decl)
	}
	return em, nil
}

// measurementName: a measurement is a name or {"name": ..., "rename": ...}.
func measurementName(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Name   string `json:"name"`
		Rename string `json:"rename"`
	}
	_ = json.Unmarshal(raw, &obj)
	if obj.Rename != "" {
		return obj.Rename
	}
	return obj.Name
}

func dimKey(dims []string) string {
	d := append([]string(nil), dims...)
	sort.Strings(d)
	return strings.Join(d, ",")
}

func checkAlarmMetric(in *instance, body *hclsyntax.Body, em *emitted) []string {
	ns := body.Attributes["namespace"]
	if ns == nil || strings.HasPrefix(literal(ns), "AWS/") {
		return nil
	}
	name := evalString(in, body.Attributes["metric_name"], nil)
	var dims []string
	if a := body.Attributes["dimensions"]; a != nil {
		v := exprValue(in, a.Expr, nil)
		if !v.Type().IsObjectType() && !v.Type().IsMapType() {
			return []string{fmt.Sprintf("agent-metrics: cannot read the dimension names of %q", name)}
		}
		if v.Type().IsObjectType() {
			for k := range v.Type().AttributeTypes() {
				dims = append(dims, k)
			}
		} else if v.IsWhollyKnown() {
			for k := range v.AsValueMap() {
				dims = append(dims, k)
			}
		}
	}
	if em == nil {
		return []string{fmt.Sprintf("agent-metrics: alarm on custom metric %q but no templatefile() of %s found", name, agentTemplate)}
	}
	key := dimKey(dims)
	if sets, ok := em.exact[name]; ok {
		if sets[key] {
			return nil
		}
		return []string{fmt.Sprintf("agent-metrics: %q is published with dimensions %s, not {%s}", name, setList(sets), key)}
	}
	for _, d := range em.patterns {
		for _, re := range d.selectors {
			if re.MatchString(name) {
				if d.dims[key] {
					return nil
				}
				return []string{fmt.Sprintf("agent-metrics: %q is published with dimensions %s, not {%s}", name, setList(d.dims), key)}
			}
		}
	}
	return []string{fmt.Sprintf("agent-metrics: no metric %q in the CloudWatch agent configuration", name)}
}

func setList(sets map[string]bool) string {
	var out []string
	for k := range sets {
		out = append(out, "{"+k+"}")
	}
	sort.Strings(out)
	return strings.Join(out, " or ")
}
