// Command composecheck validates docker-compose.yml offline, the way `docker compose config`
// would, without a Docker engine: it loads the file with compose-go (the loader behind
// `docker compose`), which validates it against the Compose Specification JSON schema and
// checks its consistency (unknown networks, volumes, depends_on targets, ...), once per profile.
//
// On top of the schema it enforces a few project rules:
//   - every variable the file interpolates is documented in the env example file;
//   - every image is pinned to a tag (no implicit or explicit :latest);
//   - every published port binds to 127.0.0.1 unless listed with -public;
//   - no service is privileged or uses the host network.
//
// Usage: composecheck [-env .env.example] [-profiles ",dev"] [-public 8080,9000] docker-compose.yml
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "composecheck:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("composecheck", flag.ContinueOnError)
	envFile := fs.String("env", ".env.example", "env example file that documents every variable")
	profiles := fs.String("profiles", ",dev", "comma-separated profiles to load, one load each (empty = default services only)")
	public := fs.String("public", "", "comma-separated host ports allowed to bind on all interfaces")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: composecheck [flags] docker-compose.yml")
	}
	file, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		return err
	}

	documented, err := readEnvKeys(*envFile)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var problems []string
	for _, v := range interpolated(string(raw)) {
		if !documented[v] {
			problems = append(problems, fmt.Sprintf("variable %s is interpolated but not documented in %s", v, *envFile))
		}
	}

	allowed := map[string]bool{}
	for _, p := range strings.Split(*public, ",") {
		if p = strings.TrimSpace(p); p != "" {
			allowed[p] = true
		}
	}

	ctx := context.Background()
	for _, profile := range strings.Split(*profiles, ",") {
		var pl []string
		if profile != "" {
			pl = []string{profile}
		}
		opts, err := cli.NewProjectOptions([]string{file},
			cli.WithWorkingDirectory(filepath.Dir(file)),
			cli.WithEnvFiles(*envFile),
			cli.WithDotEnv,
			cli.WithProfiles(pl),
			cli.WithConsistency(true),
			cli.WithName("weupload"),
		)
		if err != nil {
			return err
		}
		project, err := opts.LoadProject(ctx)
		if err != nil {
			return fmt.Errorf("profile %q: %w", profile, err)
		}
		for _, name := range project.ServiceNames() {
			svc := project.Services[name]
			problems = append(problems, checkService(name, svc, allowed)...)
		}
		fmt.Printf("composecheck: profile %-7q ok: services %s\n", profile, strings.Join(project.ServiceNames(), ", "))
	}

	problems = dedupe(problems)
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, "composecheck:", p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d problem(s)", len(problems))
	}
	return nil
}

func checkService(name string, svc types.ServiceConfig, allowedPublic map[string]bool) []string {
	var out []string
	if svc.Image != "" && svc.Build == nil {
		ref := svc.Image
		if i := strings.LastIndex(ref, "/"); i >= 0 {
			ref = ref[i+1:]
		}
		if !strings.Contains(ref, ":") && !strings.Contains(ref, "@") {
			out = append(out, fmt.Sprintf("service %s: image %q has no tag (implicit :latest)", name, svc.Image))
		} else if strings.HasSuffix(ref, ":latest") {
			out = append(out, fmt.Sprintf("service %s: image %q uses :latest", name, svc.Image))
		}
	}
	if svc.Privileged {
		out = append(out, fmt.Sprintf("service %s: privileged", name))
	}
	if svc.NetworkMode == "host" {
		out = append(out, fmt.Sprintf("service %s: network_mode host", name))
	}
	for _, p := range svc.Ports {
		if p.Published == "" {
			continue
		}
		if p.HostIP == "127.0.0.1" || p.HostIP == "::1" {
			continue
		}
		if !allowedPublic[p.Published] {
			out = append(out, fmt.Sprintf("service %s: port %s published on all interfaces (bind 127.0.0.1 or allow with -public)", name, p.Published))
		}
	}
	return out
}

// readEnvKeys returns the keys assigned (or commented out as "# KEY=") in an env file.
func readEnvKeys(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	keys := map[string]bool{}
	re := regexp.MustCompile(`^#?\s*([A-Z][A-Z0-9_]*)=`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := re.FindStringSubmatch(strings.TrimSpace(sc.Text())); m != nil {
			keys[m[1]] = true
		}
	}
	return keys, sc.Err()
}

// interpolated returns the variable names used as ${NAME...} or $NAME in a compose file,
// ignoring escaped $$ sequences and whole-line comments.
func interpolated(src string) []string {
	var b strings.Builder
	for _, line := range strings.Split(src, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") { // whole-line comments are prose
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	src = strings.ReplaceAll(b.String(), "$$", "")
	re := regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)
	seen := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(src, -1) {
		seen[m[1]] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func dedupe(in []string) []string {
	sort.Strings(in)
	return slices.Compact(in)
}
