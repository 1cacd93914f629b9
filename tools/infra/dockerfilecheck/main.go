// Command dockerfilecheck lints Dockerfiles offline.
//
// It runs BuildKit's own Dockerfile linter, the code behind `docker build --check` (rules such
// as JSONArgsRecommended, SecretsUsedInArgOrEnv, UndefinedVar, FromAsCasing,
// InvalidDefaultArgInFrom, ...), with experimental rules on and an image-metadata resolver
// that never touches a registry, plus the project's rules:
//   - every base image names a tag or digest, and never :latest;
//   - the last stage (the shipped image) runs as a non-root USER;
//   - no ADD of remote URLs (use a checksummed download in a build stage instead).
//
// hadolint is not installable on these machines (its npm wrapper downloads a binary); GitHub
// Actions runs hadolint as well. Usage: dockerfilecheck Dockerfile [more Dockerfiles]
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	digest "github.com/opencontainers/go-digest"
)

// offlineResolver answers base-image metadata lookups with an empty linux config, so the
// linter never contacts a registry.
type offlineResolver struct{}

func (offlineResolver) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}}`)
	return ref, digest.FromBytes(cfg), cfg, nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dockerfilecheck Dockerfile...")
		os.Exit(2)
	}
	total := 0
	for _, path := range os.Args[1:] {
		findings, err := check(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "dockerfilecheck: %s: %v\n", path, err)
			os.Exit(2)
		}
		for _, f := range findings {
			fmt.Println(f)
		}
		total += len(findings)
		if len(findings) == 0 {
			fmt.Printf("dockerfilecheck: %s: no findings\n", path)
		}
	}
	if total > 0 {
		os.Exit(1)
	}
}

func check(path string) ([]string, error) {
	dt, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var findings []string

	// 1. BuildKit's linter (docker build --check), all stages, experimental rules included.
	ctx := context.Background()
	platform := platforms.MustParse("linux/amd64")
	src := llb.Scratch()
	def, err := src.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	sourceMap := llb.NewSourceMap(&src, path, "Dockerfile", dt)
	sourceMap.Definition = def
	res, err := dockerfile2llb.DockerfileLint(ctx, dt, dockerfile2llb.ConvertOpt{
		Config: dockerui.Config{
			LinterConfig: &linter.Config{ExperimentalAll: true},
		},
		SourceMap:      sourceMap,
		TargetPlatform: &platform,
		MetaResolver:   offlineResolver{},
	})
	if err != nil {
		return nil, err
	}
	if res.Error != nil {
		findings = append(findings, fmt.Sprintf("%s: build error: %s", path, res.Error.Message))
	}
	for _, w := range res.Warnings {
		line := 0
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			line = int(w.Location.Ranges[0].Start.Line)
		}
		findings = append(findings, fmt.Sprintf("%s:%d: %s: %s", path, line, w.RuleName, w.Detail))
	}

	// 2. Project rules on the parsed stages.
	ast, err := parser.Parse(bytes.NewReader(dt))
	if err != nil {
		return nil, err
	}
	stages, metaArgs, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		return nil, err
	}
	args := map[string]string{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				args[kv.Key] = *kv.Value
			}
		}
	}
	names := map[string]bool{}
	for i, st := range stages {
		at := fmt.Sprintf("%s:%d", path, st.Location[0].Start.Line)
		image := expand(st.BaseName, args)
		if !names[strings.ToLower(image)] && image != "scratch" {
			ref := image[strings.LastIndex(image, "/")+1:]
			switch {
			case !strings.Contains(ref, ":") && !strings.Contains(ref, "@"):
				findings = append(findings, fmt.Sprintf("%s: base image %q has no tag (implicit :latest)", at, image))
			case strings.HasSuffix(ref, ":latest"):
				findings = append(findings, fmt.Sprintf("%s: base image %q uses :latest", at, image))
			}
		}
		if st.Name != "" {
			names[strings.ToLower(st.Name)] = true
		}
		user := ""
		for _, c := range st.Commands {
			switch cmd := c.(type) {
			case *instructions.UserCommand:
				user = cmd.User
			case *instructions.AddCommand:
				for _, src := range cmd.SourcePaths {
					if strings.Contains(src, "://") {
						findings = append(findings, fmt.Sprintf("%s:%d: ADD of a remote URL %q", path, cmd.Location()[0].Start.Line, src))
					}
				}
			}
		}
		if i == len(stages)-1 {
			u := strings.SplitN(user, ":", 2)[0]
			if u == "" || u == "0" || u == "root" {
				findings = append(findings, fmt.Sprintf("%s: the final stage (the shipped image) must set a non-root USER", at))
			}
		}
	}
	return findings, nil
}

// expand substitutes ${NAME} and $NAME from the global ARG defaults.
func expand(s string, args map[string]string) string {
	return os.Expand(s, func(k string) string { return args[k] })
}
