package localbuild

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
)

func TestCacheEntryReadsWhatBuildxTakes(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		export bool
		value  string
		want   client.CacheOptionsEntry
	}{
		{true, "registry.example.com/cache/app:main", client.CacheOptionsEntry{Type: "registry", Attrs: map[string]string{"ref": "registry.example.com/cache/app:main", "mode": "max"}}},
		{false, "registry.example.com/cache/app:main", client.CacheOptionsEntry{Type: "registry", Attrs: map[string]string{"ref": "registry.example.com/cache/app:main"}}},
		{true, "type=registry,ref=r.example.com/c:x,mode=min", client.CacheOptionsEntry{Type: "registry", Attrs: map[string]string{"ref": "r.example.com/c:x", "mode": "min"}}},
		{true, "type=registry,ref=r.example.com/c:x,mode=max", client.CacheOptionsEntry{Type: "registry", Attrs: map[string]string{"ref": "r.example.com/c:x", "mode": "max"}}},
		{false, "type=registry, ref=r.example.com/c:x", client.CacheOptionsEntry{Type: "registry", Attrs: map[string]string{"ref": "r.example.com/c:x"}}},
		{true, "type=local,dest=cache-dir", client.CacheOptionsEntry{Type: "local", Attrs: map[string]string{"dest": filepath.Join(wd, "cache-dir"), "mode": "max"}}},
		{false, "type=local,src=/var/cache/app", client.CacheOptionsEntry{Type: "local", Attrs: map[string]string{"src": "/var/cache/app"}}},
		// CSV: a quoted value keeps its comma.
		{false, `type=local,"src=/tmp/a,b"`, client.CacheOptionsEntry{Type: "local", Attrs: map[string]string{"src": "/tmp/a,b"}}},
		{true, "TYPE=inline", client.CacheOptionsEntry{Type: "inline", Attrs: map[string]string{}}},
		{true, "type=s3,region=eu-west-1,bucket=b,name=app", client.CacheOptionsEntry{Type: "s3", Attrs: map[string]string{"region": "eu-west-1", "bucket": "b", "name": "app", "mode": "max"}}},
	} {
		got, err := CacheEntry(c.export, c.value)
		if err != nil {
			t.Errorf("%q: %v", c.value, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %+v, want %+v", c.value, got, c.want)
		}
	}
}

func TestCacheEntryRefusesWhatBuildKitWouldNotTake(t *testing.T) {
	for _, c := range []struct {
		export      bool
		value, want string
	}{
		{true, "", "--cache-to : empty"},
		{false, "type=local", "--cache-from type=local: type=local needs src=DIR"},
		{true, "type=local,src=x", "type=local needs dest=DIR"},
		{true, "type=registry", "type=registry needs ref=REF"},
		{false, "type=registry,ref=Bad Ref", "ref=Bad Ref"},
		{true, "ref=r/x", "no type= (one of registry, local, inline, gha, s3, azblob)"},
		{true, "type=docker,ref=r/x", `unknown type "docker"`},
		{false, "type=inline", "an inline cache is read from the image it is in"},
		{true, "type=registry,ref=r/x,mode=full", "mode=full: want min"},
		{false, "type=registry,ref=r/x,mode=max", "mode= is for --cache-to"},
		{true, "type=registry,ref=r/x,ref=r/y", "ref is given twice"},
		{true, "type=local,dest", `"dest" is not KEY=VALUE`},
		{true, `type=local,"dest=x`, "--cache-to"},
	} {
		_, err := CacheEntry(c.export, c.value)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one saying %q", c.value, err, c.want)
		}
	}
}

func TestCacheEntryTakesGitHubActionsCredentialsFromTheEnvironment(t *testing.T) {
	t.Setenv("ACTIONS_RUNTIME_TOKEN", "tok")
	t.Setenv("ACTIONS_CACHE_URL", "")
	t.Setenv("ACTIONS_RESULTS_URL", "https://results.example/")
	got, err := CacheEntry(true, "type=gha,mode=max,scope=app")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"mode": "max", "scope": "app", "token": "tok", "url": "https://results.example/", "url_v2": "https://results.example/"}
	if !reflect.DeepEqual(got.Attrs, want) {
		t.Errorf("attrs %v, want %v", got.Attrs, want)
	}
	// What the user gives wins.
	t.Setenv("ACTIONS_CACHE_URL", "https://cache.example/")
	got, err = CacheEntry(false, "type=gha,token=mine")
	if err != nil {
		t.Fatal(err)
	}
	if got.Attrs["token"] != "mine" || got.Attrs["url"] != "https://cache.example/" {
		t.Errorf("attrs %v: want the given token and ACTIONS_CACHE_URL", got.Attrs)
	}
}

func TestCacheNotesNameLocalCachesNotMadeYet(t *testing.T) {
	made := t.TempDir()
	if err := os.WriteFile(filepath.Join(made, "index.json"), []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "none")
	notes := cacheNotes([]client.CacheOptionsEntry{
		{Type: "local", Attrs: map[string]string{"src": made}},
		{Type: "local", Attrs: map[string]string{"src": missing}},
		{Type: "registry", Attrs: map[string]string{"ref": "r/x"}},
	})
	if len(notes) != 1 || !strings.Contains(notes[0], missing) {
		t.Errorf("notes %q, want one naming %s", notes, missing)
	}
}
