package aws_test

// A stub `aws` CLI for the deploy scripts' tests: AWS cannot be reached offline, so the scripts
// run against this test binary (re-executed through a wrapper named aws on PATH). It answers
// from a per-test world (a JSON file it reads and updates), shaped like the real API responses,
// applies the script's --query with JMESPath and prints --output text or json the way the CLI
// does, and logs every call. `ssm start-session` with the port-forwarding document listens on
// the local port and relays to a real PostgreSQL, terminating TLS with the world's test
// certificate, so psql's sslmode=verify-full runs for real.

import (
	"bufio"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/jmespath/go-jmespath"
)

// stubEnv names the world file; set only in the scripts' environment.
const stubEnv = "AWSSTUB_WORLD"

type stubImage struct {
	Tags      []string
	Manifest  string
	MediaType string
}

func (im stubImage) digest() string {
	sum := sha256.Sum256([]byte(im.Manifest))
	return "sha256:" + hex.EncodeToString(sum[:])
}

type stubVersion struct {
	ID     string
	String string
	Stages []string
}

type stubRefresh struct {
	ID, Status, ImageTag string
}

// world is what the stub's AWS account holds.
type world struct {
	Images []*stubImage
	// Scan of the deployed image: Status "" means no scan at all (ScanNotFoundException).
	// ScanPolls answers IN_PROGRESS that many times first.
	ScanStatus string
	ScanPolls  int
	Severities map[string]int

	Params map[string]string

	// Instances are in service from the ASG describe call number InServiceAfter+1 on;
	// never when InServiceAfter < 0.
	Instances      []string
	InServiceAfter int
	ASGCalls       int
	TargetGroup    string

	// RefreshResults is the final status of each refresh started, in order (default Successful).
	RefreshResults []string
	Refreshes      []stubRefresh
	Commands       [][]string

	Secrets map[string][]*stubVersion

	DBHost, DBName, MasterSecretARN string
	DBPort                          int
	// The port-forwarding session relays to PostgresAddr with this certificate.
	PostgresAddr, CertFile, KeyFile string
}

type awsError struct{ code, msg string }

func (e awsError) Error() string { return fmt.Sprintf("(%s) %s", e.code, e.msg) }

// runStub is the test binary's main when it runs as the aws CLI.
func runStub(path string, args []string) int {
	logCall(path, args)
	w, err := loadWorld(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "awsstub:", err)
		return 255
	}
	if len(args) >= 2 && args[0] == "ssm" && args[1] == "start-session" {
		return w.portForward(flags(args[2:]))
	}
	out, err := w.call(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "\nAn error occurred %s\n", err)
		return 254
	}
	if err := saveWorld(path, w); err != nil {
		fmt.Fprintln(os.Stderr, "awsstub:", err)
		return 255
	}
	f := flags(args[2:])
	if q := f["--query"]; q != "" {
		var data any
		b, _ := json.Marshal(out)
		_ = json.Unmarshal(b, &data)
		if out, err = jmespath.Search(cliLiterals(q), data); err != nil {
			fmt.Fprintln(os.Stderr, "awsstub: query:", err)
			return 255
		}
	}
	if f["--output"] == "text" {
		fmt.Print(textOutput(out))
	} else if out != nil {
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Println(string(b))
	}
	return 0
}

// cliLiterals quotes backtick literals that are not JSON (`InService`), which the CLI's
// Python JMESPath still reads as strings (a legacy form) and go-jmespath refuses.
func cliLiterals(q string) string {
	return literal.ReplaceAllStringFunc(q, func(l string) string {
		if json.Valid([]byte(l[1 : len(l)-1])) {
			return l
		}
		b, _ := json.Marshal(l[1 : len(l)-1])
		return "`" + string(b) + "`"
	})
}

var literal = regexp.MustCompile("`[^`]*`")

func logCall(path string, args []string) {
	f, err := os.OpenFile(path+".calls", os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	b, _ := json.Marshal(args)
	_, _ = f.Write(append(b, '\n'))
}

func loadWorld(path string) (*world, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var w world
	return &w, json.Unmarshal(b, &w)
}

func saveWorld(path string, w *world) error {
	b, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// flags maps --name to its value; a flag followed by another flag is "true", several values
// (--accepted-media-types a b) are joined by spaces.
func flags(args []string) map[string]string {
	m := map[string]string{}
	for i := 0; i < len(args); i++ {
		if !strings.HasPrefix(args[i], "--") {
			continue
		}
		name := args[i]
		var vals []string
		for i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			i++
			vals = append(vals, args[i])
		}
		if len(vals) == 0 {
			vals = []string{"true"}
		}
		m[name] = strings.Join(vals, " ")
	}
	return m
}

// textOutput formats like the CLI's --output text for the shapes the scripts query.
func textOutput(v any) string {
	switch v := v.(type) {
	case []any:
		if len(v) > 0 {
			if _, nested := v[0].([]any); nested {
				var b strings.Builder
				for _, row := range v {
					b.WriteString(textOutput(row))
				}
				return b.String()
			}
		}
		cells := make([]string, len(v))
		for i, c := range v {
			cells[i] = strings.TrimSuffix(textOutput(c), "\n")
		}
		return strings.Join(cells, "\t") + "\n"
	case nil:
		return "None\n"
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64) + "\n"
	default:
		return fmt.Sprint(v) + "\n"
	}
}

func (w *world) image(tag string) *stubImage {
	for _, im := range w.Images {
		if slices.Contains(im.Tags, tag) {
			return im
		}
	}
	return nil
}

func (w *world) inService() []map[string]string {
	var out []map[string]string
	if w.InServiceAfter >= 0 && w.ASGCalls > w.InServiceAfter {
		for _, id := range w.Instances {
			out = append(out, map[string]string{"InstanceId": id, "LifecycleState": "InService"})
		}
	}
	return out
}

func (w *world) secretVersion(id, stage string) *stubVersion {
	for _, v := range w.Secrets[id] {
		if slices.Contains(v.Stages, stage) {
			return v
		}
	}
	return nil
}

func (w *world) call(args []string) (any, error) {
	if len(args) < 2 {
		return nil, awsError{"Usage", "aws SERVICE OPERATION"}
	}
	f := flags(args[2:])
	imageTag := strings.TrimPrefix(f["--image-ids"]+f["--image-id"], "imageTag=")
	switch args[0] + " " + args[1] {
	case "ecr describe-images":
		im := w.image(imageTag)
		if im == nil {
			return nil, awsError{"ImageNotFoundException", "no image " + imageTag}
		}
		return map[string]any{"imageDetails": []any{map[string]any{"imageDigest": im.digest(), "imageTags": im.Tags}}}, nil
	case "ecr describe-image-scan-findings":
		if w.ScanStatus == "" {
			return nil, awsError{"ScanNotFoundException", "no scan for " + imageTag}
		}
		status := w.ScanStatus
		if w.ScanPolls > 0 {
			w.ScanPolls--
			status = "IN_PROGRESS"
		}
		out := map[string]any{"imageScanStatus": map[string]any{"status": status, "description": "stub"}}
		if status == "COMPLETE" {
			out["imageScanFindings"] = map[string]any{"findingSeverityCounts": w.Severities}
		}
		return out, nil
	case "ecr batch-get-image":
		im := w.image(imageTag)
		if im == nil {
			return map[string]any{"images": []any{}}, nil
		}
		return map[string]any{"images": []any{map[string]any{
			"imageId":                map[string]any{"imageDigest": im.digest(), "imageTag": imageTag},
			"imageManifest":          im.Manifest,
			"imageManifestMediaType": im.MediaType,
		}}}, nil
	case "ecr put-image":
		b, err := os.ReadFile(strings.TrimPrefix(f["--image-manifest"], "file://"))
		if err != nil {
			return nil, awsError{"InvalidParameterException", err.Error()}
		}
		var im *stubImage
		for _, i := range w.Images {
			if i.Manifest == string(b) && i.MediaType == f["--image-manifest-media-type"] && i.digest() == f["--image-digest"] {
				im = i
			}
		}
		if im == nil {
			return nil, awsError{"InvalidParameterException", "manifest does not match an existing image"}
		}
		tag := f["--image-tag"]
		if w.image(tag) != nil {
			return nil, awsError{"ImageTagAlreadyExistsException", "tag " + tag + " exists (IMMUTABLE)"}
		}
		im.Tags = append(im.Tags, tag)
		return map[string]any{"image": map[string]any{"imageId": map[string]any{"imageDigest": im.digest(), "imageTag": tag}}}, nil
	case "ssm get-parameter":
		v, ok := w.Params[f["--name"]]
		if !ok {
			return nil, awsError{"ParameterNotFound", f["--name"]}
		}
		return map[string]any{"Parameter": map[string]any{"Name": f["--name"], "Value": v}}, nil
	case "ssm put-parameter":
		w.Params[f["--name"]] = f["--value"]
		return map[string]any{"Version": 2}, nil
	case "autoscaling describe-auto-scaling-groups":
		w.ASGCalls++
		return map[string]any{"AutoScalingGroups": []any{map[string]any{
			"Instances": w.inService(), "TargetGroupARNs": []string{w.TargetGroup},
		}}}, nil
	case "autoscaling start-instance-refresh":
		status := "Successful"
		if n := len(w.Refreshes); n < len(w.RefreshResults) {
			status = w.RefreshResults[n]
		}
		r := stubRefresh{ID: fmt.Sprintf("refresh-%d", len(w.Refreshes)+1), Status: status, ImageTag: w.Params["/weupload-dev/app/image-tag"]}
		w.Refreshes = append(w.Refreshes, r)
		return map[string]any{"InstanceRefreshId": r.ID}, nil
	case "autoscaling describe-instance-refreshes":
		for _, r := range w.Refreshes {
			if r.ID == f["--instance-refresh-ids"] {
				return map[string]any{"InstanceRefreshes": []any{map[string]any{"Status": r.Status, "PercentageComplete": 100}}}, nil
			}
		}
		return map[string]any{"InstanceRefreshes": []any{}}, nil
	case "autoscaling cancel-instance-refresh":
		return map[string]any{}, nil
	case "elbv2 describe-target-health":
		var th []any
		for range w.inService() {
			th = append(th, map[string]any{"TargetHealth": map[string]any{"State": "healthy"}})
		}
		return map[string]any{"TargetHealthDescriptions": th}, nil
	case "ssm send-command":
		var p struct{ Commands []string }
		if err := json.Unmarshal([]byte(f["--parameters"]), &p); err != nil {
			return nil, awsError{"InvalidParameters", err.Error()}
		}
		w.Commands = append(w.Commands, p.Commands)
		return map[string]any{"Command": map[string]any{"CommandId": fmt.Sprintf("cmd-%d", len(w.Commands))}}, nil
	case "ssm terminate-session":
		return map[string]any{"SessionId": f["--session-id"]}, nil
	case "ssm get-command-invocation":
		return map[string]any{"Status": "Success", "StandardOutputContent": "migrated", "StandardErrorContent": ""}, nil
	case "rds describe-db-instances":
		return map[string]any{"DBInstances": []any{map[string]any{
			"Endpoint": map[string]any{"Address": w.DBHost, "Port": w.DBPort}, "DBName": w.DBName,
			"MasterUserSecret": map[string]any{"SecretArn": w.MasterSecretARN},
		}}}, nil
	}
	return w.secretsCall(args[0]+" "+args[1], f)
}

func (w *world) secretsCall(op string, f map[string]string) (any, error) {
	id := f["--secret-id"]
	versions, ok := w.Secrets[id]
	if !ok {
		return nil, awsError{"ResourceNotFoundException", "no secret " + id}
	}
	switch op {
	case "secretsmanager describe-secret":
		out := map[string]any{"Name": id}
		if len(versions) > 0 {
			m := map[string][]string{}
			for _, v := range versions {
				if len(v.Stages) > 0 {
					m[v.ID] = v.Stages
				}
			}
			out["VersionIdsToStages"] = m
		}
		return out, nil
	case "secretsmanager get-secret-value":
		stage := f["--version-stage"]
		if stage == "" {
			stage = "AWSCURRENT"
		}
		v := w.secretVersion(id, stage)
		if v == nil {
			return nil, awsError{"ResourceNotFoundException", "no version with stage " + stage}
		}
		return map[string]any{"SecretString": v.String, "VersionId": v.ID}, nil
	case "secretsmanager put-secret-value":
		stages := strings.Fields(f["--version-stages"])
		if len(stages) == 0 {
			stages = []string{"AWSCURRENT"}
		}
		for _, s := range stages {
			if old := w.secretVersion(id, s); old != nil {
				old.Stages = slices.DeleteFunc(old.Stages, func(x string) bool { return x == s })
			}
		}
		// The first version of a secret gets AWSCURRENT whatever was asked.
		if len(versions) == 0 && !slices.Contains(stages, "AWSCURRENT") {
			stages = append(stages, "AWSCURRENT")
		}
		v := &stubVersion{ID: fmt.Sprintf("v%d", len(versions)+1), String: f["--secret-string"], Stages: stages}
		w.Secrets[id] = append(versions, v)
		return map[string]any{"VersionId": v.ID}, nil
	case "secretsmanager update-secret-version-stage":
		stage := f["--version-stage"]
		if from := f["--remove-from-version-id"]; from != "" {
			for _, v := range versions {
				if v.ID == from {
					if !slices.Contains(v.Stages, stage) {
						return nil, awsError{"InvalidParameterException", stage + " is not on " + from}
					}
					v.Stages = slices.DeleteFunc(v.Stages, func(x string) bool { return x == stage })
					// Moving AWSCURRENT away labels the old version AWSPREVIOUS.
					if stage == "AWSCURRENT" {
						for _, o := range versions {
							o.Stages = slices.DeleteFunc(o.Stages, func(x string) bool { return x == "AWSPREVIOUS" })
						}
						v.Stages = append(v.Stages, "AWSPREVIOUS")
					}
				}
			}
		} else if f["--move-to-version-id"] != "" && w.secretVersion(id, stage) != nil {
			return nil, awsError{"InvalidParameterException", stage + " is attached elsewhere: name --remove-from-version-id"}
		}
		if to := f["--move-to-version-id"]; to != "" {
			for _, v := range versions {
				if v.ID == to {
					v.Stages = append(v.Stages, stage)
				}
			}
		}
		return map[string]any{"Name": id}, nil
	}
	return nil, awsError{"InvalidAction", "the stub does not know " + op}
}

// portForward plays AWS-StartPortForwardingSessionToRemoteHost: the session ends when the
// script kills it.
func (w *world) portForward(f map[string]string) int {
	var p struct{ Host, PortNumber, LocalPortNumber []string }
	if err := json.Unmarshal([]byte(f["--parameters"]), &p); err != nil || len(p.LocalPortNumber) != 1 ||
		f["--document-name"] != "AWS-StartPortForwardingSessionToRemoteHost" ||
		!slices.Equal(p.Host, []string{w.DBHost}) || !slices.Equal(p.PortNumber, []string{strconv.Itoa(w.DBPort)}) {
		fmt.Fprintln(os.Stderr, "awsstub: unexpected start-session", f)
		return 255
	}
	cert, err := tls.LoadX509KeyPair(w.CertFile, w.KeyFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "awsstub:", err)
		return 255
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+p.LocalPortNumber[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "awsstub:", err)
		return 255
	}
	fmt.Println("\nStarting session with SessionId: deploy-dev-0123456789abcdef0")
	fmt.Println("Port " + p.LocalPortNumber[0] + " opened for sessionId deploy-dev-0123456789abcdef0.")
	fmt.Println("Waiting for connections...")
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go relayTLS(c, w.PostgresAddr, &tls.Config{Certificates: []tls.Certificate{cert}})
		}
	}()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	return 0
}

// relayTLS is RDS's side of the connection as psql sees it: it answers the PostgreSQL
// SSLRequest, terminates TLS and passes the plain protocol to the test server. Plain-text
// clients are refused (RDS here has rds.force_ssl).
func relayTLS(c net.Conn, backend string, cfg *tls.Config) {
	defer c.Close()
	r := bufio.NewReader(c)
	var req [8]byte
	for {
		if _, err := io.ReadFull(r, req[:]); err != nil {
			return
		}
		code := binary.BigEndian.Uint32(req[4:])
		if code == 80877104 { // GSSENCRequest: not offered
			_, _ = c.Write([]byte("N"))
			continue
		}
		if code != 80877103 { // SSLRequest
			return
		}
		break
	}
	if _, err := c.Write([]byte("S")); err != nil {
		return
	}
	tc := tls.Server(c, cfg)
	if err := tc.Handshake(); err != nil {
		return
	}
	b, err := net.Dial("tcp", backend)
	if err != nil {
		return
	}
	defer b.Close()
	go func() { _, _ = io.Copy(b, tc) }()
	_, _ = io.Copy(tc, b)
}
