package integration

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/go-units"
	"github.com/flatpak-frontend/flatpak-frontend/flatpak/remoteindex"
	"github.com/flatpak-frontend/flatpak-frontend/integration/harness"
	"github.com/flatpak-frontend/flatpak-frontend/packager/localbuild"
	"github.com/flatpak-frontend/flatpak-frontend/packager/publish"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	ref, err := name.ParseReference(s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// pushBuild builds a flatpak.yaml in-process with the test runtime and the
// RPM repo in rpms, and pushes the image to ref.
func pushBuild(t *testing.T, yaml, rpms, ref string) {
	t.Helper()
	dir := writeSpec(t, yaml)
	rt := harness.Runtime(t)
	var log bytes.Buffer
	_, err := localbuild.Build(context.Background(), harness.Client(t), localbuild.Options{
		File:        filepath.Join(dir, "flatpak.yaml"),
		ContextDir:  dir,
		Contexts:    map[string]string{"rpms": rpms, "runtime": "oci-layout://" + rt.Dir + "@" + rt.Digest},
		Progress:    "plain",
		ProgressOut: &log,
		Push:        ref,
	})
	if err != nil {
		t.Fatalf("build and push %s: %v\n%s", ref, err, log.String())
	}
}

// pushRuntime copies the test runtime to a registry reference, digests
// kept.
func pushRuntime(t *testing.T, ref string) {
	t.Helper()
	if out, err := exec.Command("skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--preserve-digests",
		"oci:"+harness.Runtime(t).Dir, "docker://"+ref).CombinedOutput(); err != nil {
		t.Fatalf("push the runtime: %v\n%s", err, out)
	}
}

// greetingRepo is an RPM repo with hello and a hello-data of version v
// whose greeting names it.
func greetingRepo(t *testing.T, v string) string {
	t.Helper()
	return greetingRepoSaying(t, v, v)
}

// greetingRepoSaying is greetingRepo with the greeting of version g.
func greetingRepoSaying(t *testing.T, v, g string) string {
	t.Helper()
	repo := t.TempDir()
	writeRepo(t, repo, "hello")
	spec := strings.NewReplacer("Version:        1.0", "Version:        "+v, "Greetings from hello-data", "Greetings from hello-data "+g).
		Replace(string(mustRead(t, "testdata/rpms/hello-data.spec")))
	buildSpecRPM(t, repo, spec)
	writeRepo(t, repo)
	return repo
}

// serveRemote serves a published remote on loopback.
func serveRemote(t *testing.T, dir string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: publish.Handler(dir)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// TestPublishRemoteInstallsUpdatesAndHasATestingTag is the packager's and
// the user's story: push the example app and its runtime to a registry,
// publish, serve the index; Flatpak (1.14, and sid's 1.18, which enforces
// 1.17.1's fields) adds the remote, lists and installs both, and runs the
// app. A newer package, pushed and published, reaches users with flatpak
// update, after affected named the old image; a testing tag beside latest
// serves a remote added with #testing.
func TestPublishRemoteInstallsUpdatesAndHasATestingTag(t *testing.T) {
	reg := harness.Registry(t)
	prefix := fmt.Sprintf("publish%d", time.Now().UnixNano()%1e9)
	appRepo, rtRepo := prefix+"/hello", prefix+"/platform"
	pushRuntime(t, reg+"/"+rtRepo+":latest")
	spec := appSpec("hello")
	pushBuild(t, spec, greetingRepo(t, "1.0"), reg+"/"+appRepo+":latest")

	out := t.TempDir()
	var deltas int
	publishAll := func() {
		t.Helper()
		var warnings []string
		res, err := publish.Publish(context.Background(), publish.Options{Registry: reg, Insecure: true,
			Repositories: []string{appRepo, rtRepo}, Out: out, Deltas: true, Warn: func(w string) { warnings = append(warnings, w) }})
		if err != nil {
			t.Fatal(err)
		}
		if len(warnings) > 0 {
			t.Errorf("warnings: %q", warnings)
		}
		t.Logf("published %d images: %v, %d delta manifests", res.Images, res.Indexes, res.Deltas)
		deltas = res.Deltas
	}
	publishAll()
	addr := serveRemote(t, out)

	// Users of 1.0, who later update over two versions.
	first := map[string]*harness.FlatpakEnv{"flatpak 1.14": harness.Flatpak(t), "flatpak 1.18": harness.NewerFlatpak(t)}
	for name, fp := range first {
		t.Run(name, func(t *testing.T) {
			if _, err := fp.Command("--user", "remote-add", "--no-gpg-verify", "published", "oci+http://"+addr); err != nil {
				t.Fatal(err)
			}
			fp.Command("--user", "update", "--appstream", "published")
			list, err := fp.Command("--user", "remote-ls", "--columns=ref,name", "published")
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"app/org.example.Hello/x86_64/stable", "runtime/org.example.Platform/x86_64/1", "Hello"} {
				if !strings.Contains(list, want) {
					t.Errorf("remote-ls lacks %q:\n%s", want, list)
				}
			}
			if _, err := fp.Command("--user", "install", "-y", "--noninteractive", "published", "org.example.Hello"); err != nil {
				t.Fatal(err)
			}
			if out := fp.Run(t, "org.example.Hello"); !strings.Contains(out, "Greetings from hello-data 1.0") {
				t.Errorf("the installed app printed %q", out)
			}
		})
	}

	// Before the update: the registry's image has the old package.
	// (affected exits 1 when an image is affected.)
	aff, err := exec.Command(cli(t), "affected", "--package", "hello-data<1.1", reg+"/"+appRepo+":latest").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(aff), "hello-data-1.0-1.noarch") {
		t.Errorf("affected before the update: %v\n%s", err, aff)
	}

	pushBuild(t, spec, greetingRepo(t, "1.1"), reg+"/"+appRepo+":latest")
	publishAll()
	if deltas != 1 {
		t.Errorf("publishing 1.1 over 1.0 pushed %d delta manifests, want 1", deltas)
	}
	// Installed from the remote as it is, then updated: with the deltas
	// publish pushed, which Flatpak checks against the layers' DiffIDs.
	updaters := map[string]*harness.FlatpakEnv{"flatpak 1.14": harness.Flatpak(t), "flatpak 1.18": harness.NewerFlatpak(t)}
	for _, fp := range updaters {
		if _, err := fp.Command("--user", "remote-add", "--no-gpg-verify", "published", "oci+http://"+addr); err != nil {
			t.Fatal(err)
		}
		if _, err := fp.Command("--user", "install", "-y", "--noninteractive", "published", "org.example.Hello"); err != nil {
			t.Fatal(err)
		}
	}
	pushBuild(t, spec, greetingRepo(t, "1.2"), reg+"/"+appRepo+":latest")
	publishAll()
	publishAll() // again: the delta index keeps the delta
	if deltas != 0 {
		t.Errorf("publishing again pushed %d delta manifests", deltas)
	}
	latest, err := remote.Head(mustRef(t, reg+"/"+appRepo+":latest"))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(mustRef(t, reg+"/"+appRepo+":_deltaindex"))
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Annotations["io.github.containers.delta.target"] != latest.Digest.String() {
		t.Errorf("the delta index lists %+v, want one delta manifest for %s", im.Manifests, latest.Digest)
	} else if src := strings.Split(im.Manifests[0].Annotations["org.flatpak-frontend.delta.sources"], ","); len(src) != 2 {
		t.Errorf("the delta manifest of 1.2 was made from %q, want 1.1 and 1.0", src)
	}
	// Users of 1.1, and of 1.0: publish made deltas from both.
	users := map[string]*harness.FlatpakEnv{}
	for name, fp := range first {
		users[name+" from 1.0"] = fp
	}
	for name, fp := range updaters {
		users[name+" from 1.1"] = fp
	}
	for name, fp := range users {
		t.Run(name, func(t *testing.T) {
			out, err := fp.CommandLog("-v", "--user", "update", "-y", "--noninteractive")
			if err != nil {
				t.Fatal(err)
			}
			used := 0
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, "Using OCI delta") {
					used++
				}
			}
			if used == 0 {
				t.Errorf("flatpak update used no delta:\n%s", out)
			}
			t.Logf("flatpak update used %d layer deltas", used)
			if out := fp.Run(t, "org.example.Hello"); !strings.Contains(out, "Greetings from hello-data 1.2") {
				t.Errorf("after flatpak update the app printed %q", out)
			}
		})
	}
	aff, err = exec.Command(cli(t), "affected", "--package", "hello-data<1.1", reg+"/"+appRepo+":latest").CombinedOutput()
	if err != nil || strings.Contains(string(aff), "hello-data-1.") {
		t.Errorf("affected after the update names the image: %v\n%s", err, aff)
	}

	// A testing tag beside latest.
	pushBuild(t, spec, greetingRepo(t, "2.0~beta"), reg+"/"+appRepo+":testing")
	if out, err := exec.Command("skopeo", "copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false",
		"docker://"+reg+"/"+rtRepo+":latest", "docker://"+reg+"/"+rtRepo+":testing").CombinedOutput(); err != nil {
		t.Fatalf("tag the runtime testing: %v\n%s", err, out)
	}
	publishAll()
	tester := harness.Flatpak(t)
	if _, err := tester.Command("--user", "remote-add", "--no-gpg-verify", "published-testing", "oci+http://"+addr+"/#testing"); err != nil {
		t.Fatal(err)
	}
	if _, err := tester.Command("--user", "install", "-y", "--noninteractive", "published-testing", "org.example.Hello"); err != nil {
		t.Fatal(err)
	}
	if out := tester.Run(t, "org.example.Hello"); !strings.Contains(out, "Greetings from hello-data 2.0~beta") {
		t.Errorf("the testing remote's app printed %q", out)
	}
}

// TestPublishDeltasFitTheVersionEachUserHas: 3.0 holds the files of 2.0
// (only its package's version changed), whose greeting differs from 1.0's
// by a few bytes; users of 1.0 (with Flatpak 1.14 and sid's) and one of
// 2.0 update to it through deltas. Flatpak picks a delta
// by the DiffID of the installed version's last layer: without the content
// id in it (which 1.0, 2.0 and 3.0 would otherwise share: metadata and
// export/ are the same), the user of 1.0 would get the delta made from 2.0,
// and the update would fail on the layer's checksum.
func TestPublishDeltasFitTheVersionEachUserHas(t *testing.T) {
	reg := harness.Registry(t)
	prefix := fmt.Sprintf("deltas%d", time.Now().UnixNano()%1e9)
	appRepo, rtRepo := prefix+"/hello", prefix+"/platform"
	pushRuntime(t, reg+"/"+rtRepo+":latest")
	spec := appSpec("hello")
	out := t.TempDir()
	publishAll := func() {
		t.Helper()
		if _, err := publish.Publish(context.Background(), publish.Options{Registry: reg, Insecure: true, Deltas: true,
			Repositories: []string{appRepo, rtRepo}, Out: out, Warn: func(w string) { t.Errorf("publish warned: %s", w) }}); err != nil {
			t.Fatal(err)
		}
	}
	addr := serveRemote(t, out)
	install := func(fp *harness.FlatpakEnv) *harness.FlatpakEnv {
		if _, err := fp.Command("--user", "remote-add", "--no-gpg-verify", "published", "oci+http://"+addr); err != nil {
			t.Fatal(err)
		}
		if _, err := fp.Command("--user", "install", "-y", "--noninteractive", "published", "org.example.Hello"); err != nil {
			t.Fatal(err)
		}
		return fp
	}
	// Greetings long enough that a delta copies them rather than carry
	// them; 1.0's differs from 2.0's by its version and a line less, so
	// that the delta from 1.0 describes it by its difference (bytes added
	// to the old ones, a seek past the old line, copies).
	words := strings.Fields("and more of the same words in another order until the greeting is long enough")
	var long, tail strings.Builder
	for i := range 400 {
		fmt.Fprintf(&long, " %s", words[(i*7+i/5)%len(words)])
		fmt.Fprintf(&tail, " %s", words[(i*3+i/7)%len(words)])
	}
	pushBuild(t, spec, greetingRepoSaying(t, "1.0", "1.0"+long.String()+" (a line 2.0 drops)"+tail.String()), reg+"/"+appRepo+":latest")
	publishAll()
	users := map[string]*harness.FlatpakEnv{"1.0": install(harness.Flatpak(t)), "1.0, sid's flatpak": install(harness.NewerFlatpak(t))}
	pushBuild(t, spec, greetingRepoSaying(t, "2.0", "2.0"+long.String()+tail.String()), reg+"/"+appRepo+":latest")
	publishAll()
	users["2.0"] = install(harness.Flatpak(t))
	pushBuild(t, spec, greetingRepoSaying(t, "3.0", "2.0"+long.String()+tail.String()), reg+"/"+appRepo+":latest")
	// 3.0 published with the command, which says what the deltas weigh.
	cmd := exec.Command(cli(t), "publish", "--registry", reg, "--insecure", "--repo", appRepo, "--repo", rtRepo, "--out", out, "--deltas")
	said, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("flatpak-frontend publish: %v\n%s", err, said)
	}
	m := regexp.MustCompile(`, 1 new delta manifest\(s\) \((\S+) of deltas for (\S+) of layers\)`).FindSubmatch(said)
	if m == nil {
		t.Fatalf("flatpak-frontend publish said:\n%s", said)
	}
	deltaBytes, err1 := units.FromHumanSize(string(m[1]))
	layerBytes, err2 := units.FromHumanSize(string(m[2]))
	if err1 != nil || err2 != nil || deltaBytes <= 0 || deltaBytes >= layerBytes {
		t.Errorf("flatpak-frontend publish said:\n%s", said)
	}
	t.Logf("flatpak-frontend publish: %s", said)
	img, err := remote.Image(mustRef(t, reg+"/"+appRepo+":latest"))
	if err != nil {
		t.Fatal(err)
	}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	layers := len(ls)
	for v, fp := range users {
		t.Run("from "+v, func(t *testing.T) {
			log, err := fp.CommandLog("-v", "--user", "update", "-y", "--noninteractive")
			if err != nil {
				t.Fatal(err)
			}
			// Every layer, the changed greeting's too, by its delta.
			if n := strings.Count(log, "Using OCI delta"); n != layers {
				t.Errorf("flatpak update used %d deltas for %d layers:\n%s", n, layers, log)
			}
			if out := fp.Run(t, "org.example.Hello"); !strings.Contains(out, "Greetings from hello-data 2.0") {
				t.Errorf("after flatpak update the app printed %q", out)
			}
		})
	}
}

// deleteAfterRead deletes a repository's manifest from the registry as soon
// as publish has read it: the registry loses it while publish runs.
type deleteAfterRead struct {
	reg, repo string
	once      sync.Once
	deleted   string
}

func (d *deleteAfterRead) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/"+d.repo+"/manifests/latest") {
		d.once.Do(func() {
			d.deleted = resp.Header.Get("Docker-Content-Digest")
			req, _ := http.NewRequest(http.MethodDelete, "http://"+d.reg+"/v2/"+d.repo+"/manifests/"+d.deleted, nil)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	return resp, err
}

// TestPublishLeavesOutWhatTheRegistryLost: a repository with blobs but no
// manifest yet (a push half done) and a manifest deleted while publish
// runs leave an index Flatpak can use, without them, and a warning names
// each.
func TestPublishLeavesOutWhatTheRegistryLost(t *testing.T) {
	reg := harness.Registry(t)
	prefix := fmt.Sprintf("lost%d", time.Now().UnixNano()%1e9)
	keep, lose, half := prefix+"/keep", prefix+"/lose", prefix+"/half"
	rpms := greetingRepo(t, "1.0")
	pushBuild(t, appSpec("hello"), rpms, reg+"/"+keep+":latest")
	pushBuild(t, strings.Replace(appSpec("hello"), "id: org.example.Hello", "id: org.example.Lost", 1), rpms, reg+"/"+lose+":latest")
	// A blob uploaded, its manifest never.
	resp, err := http.Post("http://"+reg+"/v2/"+half+"/blobs/uploads/?digest=sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", "application/octet-stream", strings.NewReader("foo"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	dir := t.TempDir()
	var warnings []string
	del := &deleteAfterRead{reg: reg, repo: lose}
	_, err = publish.Publish(context.Background(), publish.Options{
		Registry: reg, Insecure: true, Repositories: []string{keep, lose, half}, Out: dir,
		Warn:      func(w string) { warnings = append(warnings, w) },
		Transport: del,
	})
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(warnings, "\n")
	for _, want := range []string{half, lose + "@" + del.deleted} {
		if !strings.Contains(joined, want) {
			t.Errorf("no warning names %s:\n%s", want, joined)
		}
	}
	index := string(mustRead(t, filepath.Join(dir, "index/static.d/latest/amd64.json")))
	if !strings.Contains(index, keep) || strings.Contains(index, lose) || strings.Contains(index, half) {
		t.Errorf("the index:\n%s", index)
	}

	fp := harness.NewerFlatpak(t)
	addr := serveRemote(t, dir)
	if _, err := fp.Command("--user", "remote-add", "--no-gpg-verify", "published", "oci+http://"+addr); err != nil {
		t.Fatal(err)
	}
	list, err := fp.Command("--user", "remote-ls", "--columns=ref", "published")
	if err != nil || !strings.Contains(list, "app/org.example.Hello/") || strings.Contains(list, "org.example.Lost") {
		t.Errorf("remote-ls: %v\n%s", err, list)
	}
}

// TestPublishEndOfLifeReachesFlatpak: an app built with end-of-life and
// end-of-life-rebase keeps them through push and publish, and Flatpak
// shows them for the remote's app before installing it.
func TestPublishEndOfLifeReachesFlatpak(t *testing.T) {
	reg := harness.Registry(t)
	prefix := fmt.Sprintf("eol%d", time.Now().UnixNano()%1e9)
	appRepo, rtRepo := prefix+"/hello", prefix+"/platform"
	pushRuntime(t, reg+"/"+rtRepo+":latest")
	spec := appSpec("hello") + "end-of-life: Superseded by org.example.Hello2\nend-of-life-rebase: org.example.Hello2\n"
	pushBuild(t, spec, harness.RPMRepo(t), reg+"/"+appRepo+":latest")
	out := t.TempDir()
	if _, err := publish.Publish(context.Background(), publish.Options{Registry: reg, Insecure: true,
		Repositories: []string{appRepo, rtRepo}, Out: out, Warn: func(w string) { t.Errorf("publish warned: %s", w) }}); err != nil {
		t.Fatal(err)
	}
	addr := serveRemote(t, out)
	fp := harness.Flatpak(t)
	if _, err := fp.Command("--user", "remote-add", "--no-gpg-verify", "published", "oci+http://"+addr); err != nil {
		t.Fatal(err)
	}
	info, err := fp.Command("--user", "remote-info", "published", "app/org.example.Hello/x86_64/stable")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Superseded by org.example.Hello2", "org.example.Hello2"} {
		if !strings.Contains(info, want) {
			t.Errorf("flatpak remote-info lacks %q:\n%s", want, info)
		}
	}
	t.Logf("flatpak remote-info:\n%s", info)
}

// TestPublishVerifyChecksTheRemoteAgainstTheRegistry: verify --remote
// passes what publish wrote, and names an index that lost a mandatory
// field, names a digest the registry lacks, or gives an image labels it
// does not have.
func TestPublishVerifyChecksTheRemoteAgainstTheRegistry(t *testing.T) {
	reg := harness.Registry(t)
	repo := fmt.Sprintf("verify%d/hello", time.Now().UnixNano()%1e9)
	pushBuild(t, appSpec("hello"), harness.RPMRepo(t), reg+"/"+repo+":latest")
	out := t.TempDir()
	if _, err := publish.Publish(context.Background(), publish.Options{Registry: reg, Insecure: true,
		Repositories: []string{repo}, Out: out}); err != nil {
		t.Fatal(err)
	}
	verify := func() (string, int) {
		cmd := exec.Command(cli(t), "verify", "--remote", out, "--registry", reg, "--insecure")
		o, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(o), code
	}
	if o, code := verify(); code != 0 {
		t.Fatalf("verify --remote of what publish wrote: exit %d\n%s", code, o)
	}
	idx := filepath.Join(out, remoteindex.StaticPath("latest", "amd64"))
	good, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ from, to, want string }{
		"no Registry":     {`"Registry": `, `"Registri": `, "Registry"},
		"a lost digest":   {`"Digest": "sha256:`, `"Digest": "sha256:0000`, "not in the registry"},
		"a changed label": {`"org.flatpak.ref": "app/org.example.Hello/x86_64/stable"`, `"org.flatpak.ref": "app/org.example.Other/x86_64/stable"`, "label org.flatpak.ref differs"},
	} {
		t.Run(name, func(t *testing.T) {
			bad := strings.Replace(string(good), c.from, c.to, 1)
			if bad == string(good) {
				t.Fatalf("%q is not in the index:\n%s", c.from, good)
			}
			if err := os.WriteFile(idx, []byte(bad), 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(idx, good, 0o644)
			o, code := verify()
			if code != 1 || !strings.Contains(o, c.want) {
				t.Errorf("exit %d, want 1 and %q in:\n%s", code, c.want, o)
			}
		})
	}
}
