package llb

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/buildstep"
	"github.com/flatpak-frontend/flatpak-frontend/buildstep/install"
	"github.com/flatpak-frontend/flatpak-frontend/spec"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
)

// install runs the installer in root. cfg says where the install goes;
// out is the mount that receives it (its initial content is outInit), and
// extra adds the mounts cfg refers to.
//
// When a repo has credentials, the install is two steps: the first
// resolves and downloads with the credentials mounted, running no package
// code; the second installs the downloaded packages with no credential and
// no repo at all, so no scriptlet or trigger can read a credential.
func (b *builder) install(root bkllb.State, installer spec.Installer, cfg buildstep.InstallConfig, out string, outInit bkllb.State, extra []bkllb.RunOption) bkllb.ExecState {
	s, o := b.s, b.o
	cfg.Installer = string(installer)
	cfg.Packages = s.PackageNames(o.Arch)
	cfg.AllowOutsideApp = s.AllowOutsideApp
	cfg.ReleaseVer = s.ReleaseVer
	cfg.Diagnose = o.Diagnose

	common := []bkllb.RunOption{
		bkllb.AddMount(buildstep.TmpDir, bkllb.Scratch(), bkllb.Tmpfs()),
		b.at("packages"),
	}
	// The installers' caches (dnf, dnf5, microdnf), kept between builds.
	// Private: dnf's cache lock records a PID, which another build's PID
	// namespace takes for a dead process (dnf then fails on the lock
	// file), and a locked mount would serialize concurrent builds. A build
	// running beside another gets a cache of its own.
	for _, inst := range []string{install.Dnf, install.Dnf5, install.Microdnf} {
		dir := install.CacheDirs[inst]
		common = append(common, bkllb.AddMount(dir, bkllb.Scratch(),
			bkllb.AsPersistentCacheDir(b.cacheID(path.Base(dir)), bkllb.CacheMountPrivate)))
	}
	if o.Diagnose {
		common = append(common, bkllb.IgnoreCache)
	}
	common = append(common, extra...)

	var repoOpts []bkllb.RunOption
	secret := false
	if len(s.Repos) > 0 {
		repoOpts = append(repoOpts, bkllb.AddMount(buildstep.ReposDir, repoFiles(s.Repos), bkllb.Readonly))
		for i, r := range s.Repos {
			repo := buildstep.Repo{ID: r.Name}
			switch {
			case r.Path != "":
				repo.Dir = repoMountPath(i)
				repoOpts = append(repoOpts, bkllb.AddMount(repo.Dir, o.Contexts[r.Context],
					bkllb.SourcePath(path.Clean("/"+r.Path)), bkllb.Readonly))
			case strings.HasPrefix(r.BaseURL, "file://"):
				repo.Dir = strings.TrimPrefix(r.BaseURL, "file://")
			}
			if r.GPGCheck != nil && *r.GPGCheck {
				repo.GPGCheck, repo.GPGKeys = true, r.GPGKeys
			}
			if r.Secret != "" {
				repo.Secret = buildstep.SecretsDir + "/" + r.Secret
				repoOpts = append(repoOpts, bkllb.AddSecret(repo.Secret, bkllb.SecretID(r.Secret)))
				secret = true
			}
			cfg.Repos = append(cfg.Repos, repo)
		}
		if allLocal(s.Repos) {
			repoOpts = append(repoOpts, bkllb.Network(pb.NetMode_NONE))
		}
	}
	if o.Proxy != nil && (len(s.Repos) == 0 || !allLocal(s.Repos)) {
		repoOpts = append(repoOpts, bkllb.WithProxy(*o.Proxy))
	}
	name := fmt.Sprintf("install %d package%s", len(cfg.Packages), plural(len(cfg.Packages)))
	var finish []bkllb.RunOption
	if cfg.Finish != nil {
		// The finishing runs in the step that installs (see finishTogether).
		f := *cfg.Finish
		f.ContentIDOut = buildstep.ContentIDDir
		cfg.Finish = &f
		name += ", then " + finishName(f.Kind)
		finish = append(finish, bkllb.AddMount(buildstep.ContentIDDir, bkllb.Scratch()))
	}

	if !secret {
		opts := b.mustStep(buildstep.StepInstall, cfg)
		opts = append(opts, bkllb.AddMount(out, outInit), bkllb.WithCustomName(name))
		return b.run(root, append(append(append(opts, common...), repoOpts...), finish...)...)
	}

	dl := cfg
	dl.Mode = buildstep.ModeDownload
	dl.Out = buildstep.DownloadDir + buildstep.ReportDir
	dl.AppOut, dl.State, dl.Finish = "", "", nil
	opts := b.mustStep(buildstep.StepInstall, dl)
	opts = append(opts, bkllb.AddMount(buildstep.DownloadDir, bkllb.Scratch()),
		bkllb.WithCustomName(fmt.Sprintf("download %d package%s", len(cfg.Packages), plural(len(cfg.Packages)))))
	if cfg.AppOut == "" {
		// The root the packages go to, for the resolver; nothing is
		// written there.
		opts = append(opts, bkllb.AddMount(out, outInit))
	}
	downloaded := b.run(root, append(append(opts, common...), repoOpts...)...).GetMount(buildstep.DownloadDir)

	// The download step says which files come from a repo that checks
	// signatures; this step checks those.
	in := cfg
	in.Mode = buildstep.ModeInstallDownloaded
	in.Repos = nil
	opts = b.mustStep(buildstep.StepInstall, in)
	opts = append(opts,
		bkllb.AddMount(out, outInit),
		bkllb.AddMount(buildstep.DownloadDir, downloaded, bkllb.Readonly),
		bkllb.Network(pb.NetMode_NONE),
		bkllb.WithCustomName(name))
	return b.run(root, append(append(opts, common...), finish...)...)
}

// installOffline says whether the step that installs runs with no network:
// every repo is in a build context or a file: URL (with file: keys, if
// any), or a repo has credentials (a download step fetches the packages,
// and the step that installs them has no repo at all). With no repos, the
// runtime's own repo configuration is used, which may reach anywhere.
func (b *builder) installOffline() bool {
	repos := b.s.Repos
	if slices.ContainsFunc(repos, func(r spec.Repo) bool { return r.Secret != "" }) {
		return true
	}
	return len(repos) > 0 && allLocal(repos)
}

// finishTogether says whether the finishing runs in the step that installs,
// sparing a container (its start, its mounts and its output): not when
// cleanup-commands run between the two, nor when the install has a
// network, since the finishing (AppStream's compose, which checks URLs
// where it can) never has one. It costs a change of a finishing key
// (rename-icon, appstream-compose...) the install step again, which then
// reuses the kept install. A diagnosis of such a step finishes too, when
// the install succeeds, reporting why the finishing fails.
func (b *builder) finishTogether(cleanup bool) bool {
	return !cleanup && b.installOffline()
}

func (b *builder) mustStep(name string, cfg any) []bkllb.RunOption {
	opts, err := b.step(name, cfg)
	if err != nil {
		// The configurations always marshal.
		panic(err)
	}
	return opts
}

func repoMountPath(i int) string { return fmt.Sprintf("%s/%d", buildstep.ContextDir, i) }

// repoFiles writes one .repo file per repository. Values were validated by
// spec (no newlines), so they cannot add keys or groups.
func repoFiles(repos []spec.Repo) bkllb.State {
	var fa *bkllb.FileAction
	for i, r := range repos {
		var sb strings.Builder
		fmt.Fprintf(&sb, "[%s]\nname=%s\n", r.Name, r.Name)
		switch {
		case r.Path != "":
			fmt.Fprintf(&sb, "baseurl=file://%s/\n", repoMountPath(i))
		case r.Metalink != "":
			fmt.Fprintf(&sb, "metalink=%s\n", r.Metalink)
		case r.Mirrorlist != "":
			fmt.Fprintf(&sb, "mirrorlist=%s\n", r.Mirrorlist)
		default:
			fmt.Fprintf(&sb, "baseurl=%s\n", r.BaseURL)
		}
		sb.WriteString("enabled=1\n")
		gpg := r.GPGCheck != nil && *r.GPGCheck
		fmt.Fprintf(&sb, "gpgcheck=%d\n", b2i(gpg))
		if len(r.GPGKeys) > 0 {
			// dnf and dnf5 split the value at spaces and commas.
			fmt.Fprintf(&sb, "gpgkey=%s\n", strings.Join(r.GPGKeys, " "))
		}
		if r.Priority != 0 {
			fmt.Fprintf(&sb, "priority=%d\n", r.Priority)
		}
		if len(r.IncludePkgs) > 0 {
			fmt.Fprintf(&sb, "includepkgs=%s\n", strings.Join(r.IncludePkgs, ","))
		}
		if len(r.ExcludePkgs) > 0 {
			fmt.Fprintf(&sb, "excludepkgs=%s\n", strings.Join(r.ExcludePkgs, ","))
		}
		file := "/" + r.Name + ".repo"
		fa = fa.Mkfile(file, 0o644, []byte(sb.String())) // a nil fa's Mkfile starts the chain
	}
	return bkllb.Scratch().File(fa, bkllb.WithCustomName("[internal] write repo files"))
}

// allLocal says the repos need no network: each is a build context or a
// file:// URL, and so are the keys of those that check signatures.
func allLocal(repos []spec.Repo) bool {
	for _, r := range repos {
		if r.Path == "" && !strings.HasPrefix(r.BaseURL, "file:") {
			return false
		}
		if r.GPGCheck != nil && *r.GPGCheck && slices.ContainsFunc(r.GPGKeys, func(k string) bool { return !strings.HasPrefix(k, "file:") }) {
			return false
		}
	}
	return true
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
