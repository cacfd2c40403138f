package localbuild

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client"
)

// cacheTypes are the cache backends BuildKit has, for --cache-to and
// --cache-from.
var cacheTypes = []string{"registry", "local", "inline", "gha", "s3", "azblob"}

// CacheEntry reads a --cache-to (export) or --cache-from value as buildx
// reads it: KEY=VALUE fields, comma-separated (CSV: a value with a comma is
// quoted), one of them type=; or an image reference alone, which is
// type=registry,ref=REF. What each backend needs is checked here (a
// registry's ref, a local folder's dest or src, mode min or max), the rest
// by BuildKit. An export's mode is max unless given (BuildKit's default,
// min, leaves out the steps whose reports the frontend reads). For type=gha, the token and URLs GitHub Actions gives a job
// are taken from the environment when not given, as buildx takes them
// (ACTIONS_RUNTIME_TOKEN; ACTIONS_CACHE_URL, else ACTIONS_RESULTS_URL; and
// ACTIONS_RESULTS_URL as url_v2).
func CacheEntry(export bool, value string) (client.CacheOptionsEntry, error) {
	opt := "--cache-from"
	if export {
		opt = "--cache-to"
	}
	fail := func(format string, a ...any) (client.CacheOptionsEntry, error) {
		return client.CacheOptionsEntry{}, fmt.Errorf("%s %s: %s", opt, value, fmt.Sprintf(format, a...))
	}
	if strings.TrimSpace(value) == "" {
		return fail("empty (want type=registry,ref=REF, type=local,%s=DIR, ... or an image reference)", map[bool]string{true: "dest", false: "src"}[export])
	}
	e := client.CacheOptionsEntry{Attrs: map[string]string{}}
	if !strings.Contains(value, "=") {
		e.Type, e.Attrs["ref"] = "registry", value
	} else {
		r := csv.NewReader(strings.NewReader(value))
		r.TrimLeadingSpace = true
		fields, err := r.Read()
		if err != nil {
			return fail("%v", err)
		}
		for _, f := range fields {
			k, v, ok := strings.Cut(f, "=")
			k = strings.ToLower(strings.TrimSpace(k))
			if !ok || k == "" {
				return fail("%q is not KEY=VALUE", f)
			}
			if _, dup := e.Attrs[k]; dup || k == "type" && e.Type != "" {
				return fail("%s is given twice", k)
			}
			if k == "type" {
				e.Type = v
			} else {
				e.Attrs[k] = v
			}
		}
	}
	switch {
	case e.Type == "":
		return fail("no type= (one of %s)", strings.Join(cacheTypes, ", "))
	case !slices.Contains(cacheTypes, e.Type):
		return fail("unknown type %q (one of %s)", e.Type, strings.Join(cacheTypes, ", "))
	case e.Type == "inline" && !export:
		return fail("an inline cache is read from the image it is in: --cache-from REF names that image")
	}
	if m, ok := e.Attrs["mode"]; ok {
		if !export {
			return fail("mode= is for --cache-to")
		}
		if m != "min" && m != "max" {
			return fail("mode=%s: want min (the result's steps only) or max (every step)", m)
		}
	}
	if _, ok := e.Attrs["mode"]; export && !ok && e.Type != "inline" {
		// BuildKit's default, min, exports the result's steps only; the
		// frontend reads the install and finish steps' reports, so an
		// imported cache without them installs everything again.
		e.Attrs["mode"] = "max"
	}
	switch e.Type {
	case "registry":
		ref := e.Attrs["ref"]
		if ref == "" {
			return fail("type=registry needs ref=REF")
		}
		if _, err := reference.ParseNormalizedNamed(ref); err != nil {
			return fail("ref=%s: %v", ref, err)
		}
	case "local":
		key := "src"
		if export {
			key = "dest"
		}
		dir := e.Attrs[key]
		if dir == "" {
			return fail("type=local needs %s=DIR", key)
		}
		// As the client is asked from elsewhere than this folder
		// (tests, scripts), a relative path is made whole here.
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fail("%v", err)
		}
		e.Attrs[key] = abs
	case "gha":
		fromEnv := func(attr string, vars ...string) {
			if _, ok := e.Attrs[attr]; ok {
				return
			}
			for _, v := range vars {
				if s := os.Getenv(v); s != "" {
					e.Attrs[attr] = s
					return
				}
			}
		}
		fromEnv("token", "ACTIONS_RUNTIME_TOKEN")
		fromEnv("url", "ACTIONS_CACHE_URL", "ACTIONS_RESULTS_URL")
		fromEnv("url_v2", "ACTIONS_RESULTS_URL")
	}
	return e, nil
}

// cacheNotes says which local caches to import from hold none yet (a
// first build, as in a CI job's first run): BuildKit skips them with a
// warning only its log shows.
func cacheNotes(imports []client.CacheOptionsEntry) []string {
	var notes []string
	for _, e := range imports {
		if e.Type != "local" {
			continue
		}
		if _, err := os.Stat(filepath.Join(e.Attrs["src"], "index.json")); err != nil {
			notes = append(notes, fmt.Sprintf("--cache-from: no cache in %s yet: building without it", e.Attrs["src"]))
		}
	}
	return notes
}
