package llb

import (
	"strings"

	bkllb "github.com/moby/buildkit/client/llb"
)

// proxyArgs are the build args that name a proxy (lower case; either case
// is taken), as the Dockerfile frontend reads them and docker's CLI passes
// them from its config's proxies, and where each goes.
var proxyArgs = map[string]func(*bkllb.ProxyEnv) *string{
	"http_proxy":  func(p *bkllb.ProxyEnv) *string { return &p.HTTPProxy },
	"https_proxy": func(p *bkllb.ProxyEnv) *string { return &p.HTTPSProxy },
	"ftp_proxy":   func(p *bkllb.ProxyEnv) *string { return &p.FTPProxy },
	"no_proxy":    func(p *bkllb.ProxyEnv) *string { return &p.NoProxy },
	"all_proxy":   func(p *bkllb.ProxyEnv) *string { return &p.AllProxy },
}

// ProxyFromBuildArgs is the proxy the build args name, nil for none.
func ProxyFromBuildArgs(args map[string]string) *bkllb.ProxyEnv {
	var pe bkllb.ProxyEnv
	set := false
	for k, v := range args {
		field, ok := proxyArgs[strings.ToLower(k)]
		if !ok {
			continue
		}
		// Both spellings given: the lower-case one, as curl prefers it.
		if dst := field(&pe); *dst == "" || k == strings.ToLower(k) {
			*dst = v
		}
		set = true
	}
	if !set {
		return nil
	}
	return &pe
}

// IsProxyArg says whether a build arg's name is one ProxyFromBuildArgs
// reads.
func IsProxyArg(name string) bool {
	_, ok := proxyArgs[strings.ToLower(name)]
	return ok
}
