# Installs the packages named in "$@" with $FFE_INSTALLER and reports what
# the install added in $FFE_OUT. Package names only ever arrive
# as arguments; nothing here is built from spec text.
#
# Environment: FFE_INSTALLER (microdnf|dnf5|dnf), FFE_ROOT (install into
# this root with --installroot instead of /), FFE_KIND (app|runtime),
# FFE_REPOSDIR (optional), FFE_RELEASEVER (optional), FFE_ALLOW
# (space-separated packages allowed to own files outside /app),
# FFE_SECRET_REPOS (space-separated REPO=SECRETFILE), FFE_DIAGNOSE=1 (never
# fail: write the reports and exit 0), FFE_APP_OUT and FFE_FRESH (below).
set -u
out=$FFE_OUT
root=${FFE_ROOT:-}
mkdir -p "$out"

rpmq() {
	rpm ${root:+"--root=$root"} "$@"
}

# rpm's own status, not sort's.
rpmlist() {
	list=$(rpmq -qa --qf '%{NAME}\t%{EPOCHNUM}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\n') || return 1
	[ -z "$list" ] || printf '%s\n' "$list" | LC_ALL=C sort
}

# /app goes back to a folder for the steps after this one.
restore_app() {
	if [ -n "${FFE_APP_OUT:-}" ] && [ -L /app ]; then
		rm -f /app && mkdir -m 0755 /app
	fi
}

fail() {
	printf 'flatpak-frontend: %s\n' "$*" >&2
	printf '%s\n' "$*" >"$out/error"
	restore_app
	[ "${FFE_DIAGNOSE:-}" = 1 ] && exit 0
	exit 1
}

if [ -n "$root" ] && [ "$FFE_INSTALLER" = dnf ]; then
	# dnf reads the release version from the install root, which may have
	# none; "/" takes it from the build image.
	FFE_RELEASEVER=${FFE_RELEASEVER:-/}
fi
rpmlist >"$out/rpms-before" || fail "cannot read the runtime's rpm database"

reposdir=${FFE_REPOSDIR:-}
if [ -n "$reposdir" ] && [ -n "${FFE_SECRET_REPOS:-}" ]; then
	# Credentials go into a copy of the repo files on a tmpfs, never a layer.
	cp -r "$reposdir" /run/flatpak-frontend/tmp/repos.d
	reposdir=/run/flatpak-frontend/tmp/repos.d
	for pair in $FFE_SECRET_REPOS; do
		repo=${pair%%=*}
		secret=${pair#*=}
		cred=$(cat "$secret") || fail "cannot read the secret for repo $repo"
		{
			printf '\n[%s]\n' "$repo"
			printf 'username=%s\n' "${cred%%:*}"
			printf 'password=%s\n' "${cred#*:}"
		} >>"$reposdir/$repo.repo"
	done
fi

# FFE_APP_OUT is the step's output and FFE_STATE a cache folder kept
# between builds of this app; /app is a link to one of them while the
# installer runs. Keeping the install costs a copy of /app, so the first
# build installs straight into the output and only marks the app as seen;
# later ones install into $FFE_STATE/app and copy it to the output. When the
# runtime, the installer and the repos are the same (every repo a build
# context, its repodata unchanged) and packages were only added, the
# installer adds the new ones to the kept install instead of starting over.
# FFE_FRESH=1 always starts over.
state=${FFE_STATE:-}
keep=
if [ -n "${FFE_APP_OUT:-}" ]; then
	dbpath=$(rpm --eval '%{_dbpath}')
	fingerprint=$(
		{
			cat "$out/rpms-before"
			echo "$FFE_INSTALLER ${FFE_RELEASEVER:-} ${FFE_ALLOW:-} $dbpath"
			if [ -n "${FFE_REPOSDIR:-}" ]; then
				for f in "$FFE_REPOSDIR"/*.repo; do
					cat "$f"
					sed -n 's/^baseurl=file:\/\///p' "$f" | while read -r dir; do
						cat "$dir/repodata/repomd.xml" || echo unreadable
					done
				done
			fi
		} | sha256sum | cut -d' ' -f1
	)
	reuse=
	if [ "${FFE_FRESH:-}" != 1 ] && [ "${FFE_DIAGNOSE:-}" != 1 ] && [ -n "${FFE_REPOSDIR:-}" ] &&
		! grep -hE '^(baseurl|metalink|mirrorlist)=' "$FFE_REPOSDIR"/*.repo | grep -qv '^baseurl=file://' &&
		[ -f "$state/complete" ] && [ "$(cat "$state/fingerprint")" = "$fingerprint" ]; then
		reuse=1
		while read -r had; do
			case " $* " in *" $had "*) ;; *) reuse= ;; esac
		done <"$state/packages"
	fi
	rm -f "$state/complete"
	rm -rf /app || fail "cannot replace /app"
	if [ -n "$reuse" ]; then
		keep=1
		echo "flatpak-frontend: installing on top of this app's last install"
		rm -rf "$dbpath" && cp -a "$state/rpmdb" "$dbpath" || fail "cannot restore the last install's rpm database"
		ln -s "$state/app" /app
	elif [ -e "$state/seen" ] && [ "${FFE_DIAGNOSE:-}" != 1 ]; then
		keep=1
		rm -rf "$state/app" "$state/rpmdb" && mkdir "$state/app" || fail "cannot empty $state"
		ln -s "$state/app" /app
	else
		: >"$state/seen"
		ln -s "$FFE_APP_OUT" /app
	fi
	printf '%s\n' "$@" >"$state/packages.new"
fi

# A build-context repo is mounted at the same path in every build while its
# repodata changes: what the installer cached of it is dropped.
if [ -n "${FFE_REPOSDIR:-}" ]; then
	for f in "$FFE_REPOSDIR"/*.repo; do
		if grep -q '^baseurl=file://' "$f"; then
			id=$(sed -n 's/^\[\(.*\)\]$/\1/p' "$f" | head -n 1)
			[ -n "$id" ] && rm -rf /var/cache/dnf/"$id"-* /var/cache/dnf/"$id".solv /var/cache/dnf/"$id"-filenames.solvx \
				/var/cache/libdnf5/"$id"-* /var/cache/yum/metadata/"$id" /var/cache/yum/metadata/"$id"-* /var/cache/yum/solv/"$id".solv /var/cache/yum/solv/"$id"-*.solvx
		fi
	done
fi

# With --installroot, the installers would keep their caches in the
# install root; these options keep them in the step's cache mounts. microdnf
# refuses --installroot without its config, plugins, cache, repo and vars
# folders named.
rootopts=
if [ -n "$root" ]; then
	case "$FFE_INSTALLER" in
	microdnf)
		conf=/etc/dnf/dnf.conf
		if [ ! -f "$conf" ]; then
			conf=/run/flatpak-frontend/tmp/dnf.conf
			echo '[main]' >"$conf"
		fi
		reposdir=${reposdir:-/etc/yum.repos.d}
		rootopts="--config=$conf --noplugins --setopt=cachedir=/var/cache/yum --setopt=varsdir=/etc/dnf/vars"
		# The release version of the build image, as dnf's --releasever=/
		# (microdnf would look for os-release in the install root).
		if [ -z "${FFE_RELEASEVER:-}" ]; then
			if v=$(rpm -q --qf '%{VERSION}\n' --whatprovides system-release 2>/dev/null); then
				FFE_RELEASEVER=$(echo "$v" | head -n 1)
			elif [ -f /etc/os-release ]; then
				FFE_RELEASEVER=$(sed -n 's/^VERSION_ID="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release)
			fi
		fi
		;;
	dnf5)
		# dnf5-installroot(7): paths given on the command line are the host's.
		rootopts="--setopt=cachedir=/var/cache/libdnf5 --setopt=system_cachedir=/var/cache/libdnf5"
		;;
	dnf)
		rootopts=--setopt=cachedir=/var/cache/dnf
		;;
	esac
fi

# --refresh: a repo's cached metadata is checked against its repomd.xml
# (one small download for a remote repo), not trusted for dnf's
# metadata_expire (two days), which would miss a package or an update
# published since the last build. timeout: give up on a repo that stalls
# for 15 s (dnf's default is 30 s, for each of several attempts).
case "$FFE_INSTALLER" in
microdnf)
	set -- microdnf -y --refresh ${root:+"--installroot=$root"} $rootopts --setopt=install_weak_deps=0 --setopt=keepcache=1 ${reposdir:+--setopt=reposdir=$reposdir} ${FFE_RELEASEVER:+--releasever=$FFE_RELEASEVER} install "$@"
	;;
dnf5)
	set -- dnf5 -y --refresh ${root:+"--installroot=$root"} $rootopts --setopt=timeout=15 --setopt=install_weak_deps=False --setopt=keepcache=True ${reposdir:+--setopt=reposdir=$reposdir} ${FFE_RELEASEVER:+--releasever=$FFE_RELEASEVER} install "$@"
	;;
dnf)
	set -- dnf -y --refresh ${root:+"--installroot=$root"} $rootopts --setopt=timeout=15 --setopt=install_weak_deps=False --setopt=keepcache=True ${reposdir:+--setopt=reposdir=$reposdir} ${FFE_RELEASEVER:+--releasever=$FFE_RELEASEVER} install "$@"
	;;
*)
	fail "unknown installer $FFE_INSTALLER"
	;;
esac

# Keep the installer's output visible in the build log and in a file the
# frontend reads when the install fails.
{
	"$@" 2>&1
	echo $? >"$out/installer-status"
} | tee "$out/installer.log"
status=$(cat "$out/installer-status")
if [ "$status" != 0 ]; then
	# The phrases dnf, dnf5 and microdnf use for a name no repo has.
	sed -n -e 's/^No match for argument: *//p' \
		-e "s/^error: No package matches '\\(.*\\)'.*/\\1/p" \
		-e 's/^No package \([^ ]*\) available.*/\1/p' \
		"$out/installer.log" | LC_ALL=C sort -u >"$out/missing"
	fail "$FFE_INSTALLER failed with exit status $status"
fi

rpmlist >"$out/rpms" || fail "cannot read the rpm database after the install"
LC_ALL=C comm -13 "$out/rpms-before" "$out/rpms" >"$out/rpms-added"

# Who owns which file (NAME, SOURCERPM, PATH per line): the frontend puts
# each source package's files in a layer of its own, and an app's packages
# must keep to /app.
cut -f1 "$out/rpms-added" | LC_ALL=C sort -u | xargs -r rpm ${root:+"--root=$root"} -q \
	--qf '[%{=NAME}\t%{=SOURCERPM}\t%{FILENAMES}\n]' >"$out/owners" 2>"$out/owners.err"
# rpm can complain and still exit 0.
if [ $? != 0 ] || [ -s "$out/owners.err" ]; then
	cat "$out/owners.err" >&2
	fail "cannot list the installed packages' files"
fi

if [ "${FFE_KIND:-app}" = runtime ]; then
	: >"$out/outside"
	echo ok >"$out/status"
	exit 0
fi
# Packages the runtime should have provided show up as files outside /app.
FFE_ALLOW=${FFE_ALLOW:-} awk -F '\t' '
BEGIN { n = split(ENVIRON["FFE_ALLOW"], a, " "); for (i = 1; i <= n; i++) allow[a[i]] = 1 }
!($1 in allow) && $3 != "/app" && substr($3, 1, 5) != "/app/" { print $1 "\t" $3 }' "$out/owners" >"$out/outside"
if [ -s "$out/outside" ]; then
	cut -f1 "$out/outside" | uniq | while read -r name; do
		printf 'flatpak-frontend: package %s installs files outside /app:\n' "$name" >&2
		grep "^$name	" "$out/outside" | cut -f2 | head -n 5 | sed 's/^/  /' >&2
	done
	fail "packages that install outside /app must come from the runtime (or be listed in allow-outside-app)"
fi
if [ -n "$keep" ]; then
	for e in "$state"/app/* "$state"/app/.[!.]* "$state"/app/..?*; do
		[ -e "$e" ] || [ -L "$e" ] || continue
		cp -a "$e" "$FFE_APP_OUT/" || fail "cannot copy /app to the step's output"
	done
	# Kept for the next build, marked complete only once whole.
	rm -rf "$state/rpmdb" && cp -a "$dbpath" "$state/rpmdb" &&
		echo "$fingerprint" >"$state/fingerprint" && mv "$state/packages.new" "$state/packages" &&
		: >"$state/complete"
fi
restore_app
echo ok >"$out/status"
