package llb

import (
	"strings"

	bkllb "github.com/moby/buildkit/client/llb"
)

// ProxyFromBuildArgs is the proxy the build args name (HTTP_PROXY,
// HTTPS_PROXY, FTP_PROXY, NO_PROXY, ALL_PROXY, in either case, as the
// Dockerfile frontend reads them and docker's CLI passes them from its
// config's proxies), nil for none.
func ProxyFromBuildArgs(args map[string]string) *bkllb.ProxyEnv {
	var pe bkllb.ProxyEnv
	set := false
	for k, v := range args {
		var dst *string
		switch strings.ToLower(k) {
		case "http_proxy":
			dst = &pe.HTTPProxy
		case "https_proxy":
			dst = &pe.HTTPSProxy
		case "ftp_proxy":
			dst = &pe.FTPProxy
		case "no_proxy":
			dst = &pe.NoProxy
		case "all_proxy":
			dst = &pe.AllProxy
		default:
			continue
		}
		// Both spellings given: the lower-case one, as curl prefers it.
		if *dst == "" || k == strings.ToLower(k) {
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
	switch strings.ToLower(name) {
	case "http_proxy", "https_proxy", "ftp_proxy", "no_proxy", "all_proxy":
		return true
	}
	return false
}
