package main

// Terraform modules read and evaluated offline, the one way every check does it (no Terraform
// CLI, no providers): a module is a directory of .tf files; a root module's local module calls
// expand into a tree of instances; evaluate gives a module the EvalContext Terraform would
// build for it: variables (from the caller, else their default), locals, data sources, and
// resource attributes as written, plus the ARNs AWS would give a few resource types, all of
// them with for_each expanded. What differs between checks is only what comes from outside
// the module (evalInputs): sample values for the variables and data sources, and the account
// and region ARNs are built with. Whatever cannot be evaluated stays unknown, so a check that
// needs a value fails instead of guessing it.

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// tfModule is one directory of .tf files: its top-level blocks by address.
type tfModule struct {
	dir    string
	blocks map[string]*hclsyntax.Block // resource.T.N, data.T.N, output.N, variable.N, module.N
	locals map[string]*hclsyntax.Attribute
	order  []string // block addresses in file order, for stable findings
}

// parseHCL parses one HCL file.
func parseHCL(path string) (*hclsyntax.Body, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	return f.Body.(*hclsyntax.Body), nil
}

// loadTFModule reads the .tf files of dir, once per dir when mods (a cache) is not nil.
func loadTFModule(mods map[string]*tfModule, dir string) (*tfModule, error) {
	dir = filepath.Clean(dir)
	if m, ok := mods[dir]; ok {
		return m, nil
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no .tf files in %s", dir)
	}
	sort.Strings(paths)
	m := &tfModule{dir: dir, blocks: map[string]*hclsyntax.Block{}, locals: map[string]*hclsyntax.Attribute{}}
	for _, p := range paths {
		body, err := parseHCL(p)
		if err != nil {
			return nil, err
		}
		for _, b := range body.Blocks {
			if b.Type == "locals" {
				for name, a := range b.Body.Attributes {
					m.locals[name] = a
				}
				continue
			}
			key := strings.Join(append([]string{b.Type}, b.Labels...), ".")
			m.blocks[key] = b
			m.order = append(m.order, key)
		}
	}
	if mods != nil {
		mods[dir] = m
	}
	return m, nil
}

// blocksOf returns the module's blocks of one kind ("resource", "data", ...) and type, in file
// order; typ "" means every type.
func (m *tfModule) blocksOf(kind, typ string) []*hclsyntax.Block {
	var out []*hclsyntax.Block
	for _, key := range m.order {
		b := m.blocks[key]
		if b.Type == kind && (typ == "" || len(b.Labels) > 0 && b.Labels[0] == typ) {
			out = append(out, b)
		}
	}
	return out
}

// instance is a module in a root's module tree.
type instance struct {
	mod      *tfModule
	parent   *instance
	call     *hclsyntax.Block // the module block in parent; nil for the root
	children map[string]*instance
	name     string     // module path, e.g. module.weupload.module.alb
	eval     *evaluated // evaluated with its caller's arguments, once (see instanceEval)
}

// moduleTrees returns the expanded module tree of every root module under root (a directory
// with .tf files outside any "modules" directory).
func moduleTrees(root string) ([]*instance, error) {
	roots, err := rootModules(root)
	if err != nil {
		return nil, err
	}
	mods := map[string]*tfModule{}
	var out []*instance
	for _, dir := range roots {
		top, err := expand(mods, dir, nil, nil, "")
		if err != nil {
			return nil, err
		}
		walkInstances(top, func(in *instance) {
			if err == nil {
				_, err = instanceEval(in, nil)
			}
		})
		if err != nil {
			return nil, err
		}
		out = append(out, top)
	}
	return out, nil
}

func rootModules(root string) ([]string, error) {
	set := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "modules" || strings.HasPrefix(d.Name(), ".") && p != root) {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".tf") {
			set[filepath.Dir(p)] = true
		}
		return nil
	})
	var out []string
	for d := range set {
		out = append(out, d)
	}
	sort.Strings(out)
	return out, err
}

// expand loads dir and, recursively, the local modules it calls.
func expand(mods map[string]*tfModule, dir string, parent *instance, call *hclsyntax.Block, name string) (*instance, error) {
	m, err := loadTFModule(mods, dir)
	if err != nil {
		return nil, err
	}
	in := &instance{mod: m, parent: parent, call: call, children: map[string]*instance{}, name: name}
	for _, b := range m.blocksOf("module", "") {
		src := literal(b.Body.Attributes["source"])
		if !strings.HasPrefix(src, "./") && !strings.HasPrefix(src, "../") {
			continue // registry modules are not ours to check
		}
		child, err := expand(mods, filepath.Join(dir, src), in, b, strings.TrimPrefix(name+".module."+b.Labels[0], "."))
		if err != nil {
			return nil, err
		}
		in.children[b.Labels[0]] = child
	}
	return in, nil
}

func walkInstances(in *instance, fn func(*instance)) {
	fn(in)
	names := make([]string, 0, len(in.children))
	for name := range in.children {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		walkInstances(in.children[name], fn)
	}
}

// instanceEval evaluates in with the arguments its caller passes (evaluated in the caller),
// overrides replacing some of them; without overrides the result is kept on the instance.
func instanceEval(in *instance, overrides map[string]cty.Value) (*evaluated, error) {
	if in.eval != nil && overrides == nil {
		return in.eval, nil
	}
	vars := map[string]cty.Value{}
	if in.call != nil {
		parent, err := instanceEval(in.parent, nil)
		if err != nil {
			return nil, err
		}
		for name, a := range in.call.Body.Attributes {
			if _, ok := in.mod.blocks["variable."+name]; ok {
				vars[name] = parent.value(a.Expr)
			}
		}
	}
	for name, v := range overrides {
		vars[name] = v
	}
	e, err := evaluate(in.mod, evalInputs{vars: vars})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.mod.dir, err)
	}
	if overrides == nil {
		in.eval = e
	}
	return e, nil
}

// exprValue evaluates expr in its module instance, some of the instance's variables replaced
// by overrides; unknown when it cannot be evaluated.
func exprValue(in *instance, expr hcl.Expression, overrides map[string]cty.Value) cty.Value {
	e, err := instanceEval(in, overrides)
	if err != nil {
		return cty.DynamicVal
	}
	return e.value(expr)
}

// ---------------------------------------------------------------------------------------------
// Evaluation.

// evalInputs is what a module gets from outside: whatever is not given is unknown.
type evalInputs struct {
	vars map[string]cty.Value // variable values; a variable not here takes its default
	data map[string]cty.Value // "TYPE.NAME" -> a data source's value (aws_iam_policy_document is evaluated)
	aws  awsSample            // builds the ARNs of resources; zero: ARNs stay unknown
	// unknownWhy ends the error for a policy document value that is not known: which inputs
	// to add.
	unknownWhy string
}

// awsSample is where resources are assumed to live, and the random parts AWS adds to ARNs.
type awsSample struct {
	partition, region, account string
	secretSuffix, asgUUID      string
}

// evaluated is a module with the EvalContext Terraform would evaluate its expressions in.
type evaluated struct {
	mod  *tfModule
	ctx  *hcl.EvalContext
	in   evalInputs
	errs []error // policy documents that cannot be evaluated
}

// evaluate builds m's EvalContext: var.*, data.*, local.*, path.* and every resource type,
// passing over locals, data sources and resources until nothing changes (they refer to each
// other; each pass resolves at least one more level).
func evaluate(m *tfModule, in evalInputs) (*evaluated, error) {
	vars := map[string]cty.Value{}
	for _, b := range m.blocksOf("variable", "") {
		vars[b.Labels[0]] = cty.DynamicVal
		if v, ok := in.vars[b.Labels[0]]; ok {
			vars[b.Labels[0]] = v
		} else if d, ok := b.Body.Attributes["default"]; ok {
			if v, diags := d.Expr.Value(nil); !diags.HasErrors() {
				vars[b.Labels[0]] = v
			}
		}
	}
	e := &evaluated{mod: m, in: in, ctx: &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":  cty.ObjectVal(vars),
			"path": cty.ObjectVal(map[string]cty.Value{"module": cty.StringVal(m.dir), "root": cty.StringVal(".")}),
		},
		Functions: tfFunctions,
	}}
	locals := map[string]cty.Value{}
	for name := range m.locals {
		locals[name] = cty.DynamicVal
	}
	values := map[string]map[string]cty.Value{} // "data" or resource type -> name -> value
	var blocks []*hclsyntax.Block
	for _, key := range m.order {
		b := m.blocks[key]
		if (b.Type != "resource" && b.Type != "data") || len(b.Labels) != 2 {
			continue
		}
		blocks = append(blocks, b)
		group := b.Labels[0]
		if b.Type == "data" {
			group = "data"
		}
		if values[group] == nil {
			values[group] = map[string]cty.Value{}
		}
		values[group][m.dataKey(b)] = cty.DynamicVal
	}
	for key, v := range in.data {
		if values["data"] == nil {
			values["data"] = map[string]cty.Value{}
		}
		values["data"][key] = v // also when not declared: Terraform would say so, not this
	}
	const passes = 8
	for range passes {
		e.errs = nil
		e.ctx.Variables["local"] = object(locals)
		data := map[string]map[string]cty.Value{}
		for key, v := range values["data"] {
			typ, name, _ := strings.Cut(key, ".")
			if data[typ] == nil {
				data[typ] = map[string]cty.Value{}
			}
			data[typ][name] = v
		}
		dataTypes := map[string]cty.Value{}
		for typ, byName := range data {
			dataTypes[typ] = object(byName)
		}
		e.ctx.Variables["data"] = object(dataTypes)
		for group, byName := range values {
			if group != "data" {
				e.ctx.Variables[group] = object(byName)
			}
		}
		changed := false
		for _, name := range sortedKeys(m.locals) {
			v := e.value(m.locals[name].Expr)
			if !v.RawEquals(locals[name]) {
				locals[name], changed = v, true
			}
		}
		for _, b := range blocks {
			group, key := b.Labels[0], m.dataKey(b)
			if b.Type == "data" {
				if _, given := in.data[key]; given {
					continue
				}
				group = "data"
			}
			v := e.blockValue(b)
			if !v.RawEquals(values[group][key]) {
				values[group][key], changed = v, true
			}
		}
		if !changed {
			return e, nil
		}
	}
	return nil, fmt.Errorf("locals and resource attributes did not settle after %d passes", passes)
}

// dataKey is where evaluate keeps a block's value: "TYPE.NAME" under "data" for a data
// source, NAME under its type for a resource.
func (m *tfModule) dataKey(b *hclsyntax.Block) string {
	if b.Type == "data" {
		return b.Labels[0] + "." + b.Labels[1]
	}
	return b.Labels[1]
}

// value evaluates expr; unknown when it cannot be evaluated.
func (e *evaluated) value(expr hcl.Expression) cty.Value {
	v, diags := expr.Value(e.ctx)
	if diags.HasErrors() {
		return cty.DynamicVal
	}
	return v
}

// blockValue is the value of a resource or data block: for_each gives an object of its
// instances, count leaves it unknown.
func (e *evaluated) blockValue(b *hclsyntax.Block) cty.Value {
	if b.Body.Attributes["count"] != nil {
		return cty.DynamicVal
	}
	fe := b.Body.Attributes["for_each"]
	if fe == nil {
		return e.instanceValue(b, e.ctx)
	}
	coll := e.value(fe.Expr)
	if !coll.IsWhollyKnown() || coll.IsNull() || !coll.CanIterateElements() {
		return cty.DynamicVal
	}
	out := map[string]cty.Value{}
	for it := coll.ElementIterator(); it.Next(); {
		k, v := it.Element()
		if coll.Type().IsSetType() {
			k = v
		}
		if k.Type() != cty.String {
			return cty.DynamicVal
		}
		c := e.ctx.NewChild()
		c.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": k, "value": v})}
		out[k.AsString()] = e.instanceValue(b, c)
	}
	return object(out)
}

// instanceValue is one instance of a block: a policy document's json, a data source's
// unknown value, or a resource's attributes.
func (e *evaluated) instanceValue(b *hclsyntax.Block, ctx *hcl.EvalContext) cty.Value {
	if b.Type == "data" {
		if b.Labels[0] != "aws_iam_policy_document" {
			return cty.DynamicVal
		}
		stmts, err := policyDocument(b, ctx, e.in.unknownWhy)
		if err != nil {
			e.errs = append(e.errs, err)
			return cty.DynamicVal
		}
		js, err := policyJSON(stmts, "")
		if err != nil {
			return cty.DynamicVal
		}
		return cty.ObjectVal(map[string]cty.Value{"json": cty.StringVal(string(js))})
	}
	return resourceValue(b, ctx, e.in.aws)
}

// resourceValue is a resource's top-level attributes as written, plus the ARN (and id where
// it differs from the ARN) AWS gives it, for the types the checks' policies name.
func resourceValue(b *hclsyntax.Block, ctx *hcl.EvalContext, aws awsSample) cty.Value {
	attrs := map[string]cty.Value{}
	for name, a := range b.Body.Attributes {
		if name == "for_each" {
			continue
		}
		v, diags := a.Expr.Value(ctx)
		if diags.HasErrors() {
			v = cty.DynamicVal
		}
		attrs[name] = v
	}
	str := func(name string) (string, bool) {
		v, ok := attrs[name]
		if !ok || !v.IsWhollyKnown() || v.IsNull() || !v.Type().Equals(cty.String) {
			return "", false
		}
		return v.AsString(), true
	}
	p, r, acct := aws.partition, aws.region, aws.account
	arn := ""
	name, known := str("name")
	if acct == "" {
		known = false
	}
	switch b.Labels[0] {
	case "aws_ssm_parameter":
		if known {
			arn = fmt.Sprintf("arn:%s:ssm:%s:%s:parameter/%s", p, r, acct, strings.TrimPrefix(name, "/"))
		}
	case "aws_secretsmanager_secret":
		if known {
			arn = fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s-%s", p, r, acct, name, aws.secretSuffix)
			attrs["id"] = cty.StringVal(arn)
		}
	case "aws_cloudwatch_log_group":
		if known {
			arn = fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s", p, r, acct, name)
		}
	case "aws_autoscaling_group":
		if known {
			arn = fmt.Sprintf("arn:%s:autoscaling:%s:%s:autoScalingGroup:%s:autoScalingGroupName/%s", p, r, acct, aws.asgUUID, name)
		}
	case "aws_iam_role", "aws_iam_instance_profile", "aws_iam_policy":
		if known {
			path, ok := str("path")
			if !ok {
				path = "/"
			}
			kind := strings.TrimPrefix(strings.ReplaceAll(b.Labels[0], "_", "-"), "aws-iam-")
			arn = fmt.Sprintf("arn:%s:iam::%s:%s%s%s", p, acct, kind, path, name)
			attrs["id"] = cty.StringVal(name)
			if kind == "policy" {
				attrs["id"] = cty.StringVal(arn)
			}
		}
	}
	if arn != "" {
		attrs["arn"] = cty.StringVal(arn)
	} else {
		attrs["arn"] = cty.UnknownVal(cty.String)
	}
	if _, ok := attrs["id"]; !ok {
		attrs["id"] = cty.UnknownVal(cty.String)
	}
	return cty.ObjectVal(attrs)
}

// object builds an object (not a map) so that values of differing shapes fit together.
func object(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// tfFunctions are the Terraform functions the modules use that need no files or provider; a
// missing one leaves its result unknown.
var tfFunctions = map[string]function.Function{
	"can":        tryfunc.CanFunc,
	"coalesce":   stdlib.CoalesceFunc,
	"compact":    stdlib.CompactFunc,
	"concat":     stdlib.ConcatFunc,
	"contains":   stdlib.ContainsFunc,
	"distinct":   stdlib.DistinctFunc,
	"element":    stdlib.ElementFunc,
	"flatten":    stdlib.FlattenFunc,
	"format":     stdlib.FormatFunc,
	"formatlist": stdlib.FormatListFunc,
	"join":       stdlib.JoinFunc,
	"jsonencode": stdlib.JSONEncodeFunc,
	"keys":       stdlib.KeysFunc,
	"length":     stdlib.LengthFunc,
	// Terraform's lookup accepts a null default; cty's does not.
	"lookup": function.New(&function.Spec{
		Params: []function.Parameter{
			{Name: "map", Type: cty.DynamicPseudoType},
			{Name: "key", Type: cty.String},
			{Name: "default", Type: cty.DynamicPseudoType, AllowNull: true},
		},
		Type: func([]cty.Value) (cty.Type, error) { return cty.DynamicPseudoType, nil },
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if v, ok := args[0].AsValueMap()[args[1].AsString()]; ok {
				return v, nil
			}
			return args[2], nil
		},
	}),
	"lower":      stdlib.LowerFunc,
	"max":        stdlib.MaxFunc,
	"merge":      stdlib.MergeFunc,
	"min":        stdlib.MinFunc,
	"regex":      stdlib.RegexFunc,
	"replace":    stdlib.ReplaceFunc,
	"setproduct": stdlib.SetProductFunc,
	"sort":       stdlib.SortFunc,
	"split":      stdlib.SplitFunc,
	"startswith": function.New(&function.Spec{
		Params: []function.Parameter{{Name: "s", Type: cty.String}, {Name: "prefix", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(strings.HasPrefix(args[0].AsString(), args[1].AsString())), nil
		},
	}),
	"substr":     stdlib.SubstrFunc,
	"tolist":     stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
	"toset":      stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
	"trimprefix": stdlib.TrimPrefixFunc,
	"trimspace":  stdlib.TrimSpaceFunc,
	"trimsuffix": stdlib.TrimSuffixFunc,
	"try":        tryfunc.TryFunc,
	"upper":      stdlib.UpperFunc,
}
