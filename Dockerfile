# The flatpak-frontend image: the static frontend binary on scratch.
#
# The build context is a folder holding the binary built for the target
# platform (make image builds it with CGO_ENABLED=0 and runs this file), so
# the image builds with no base image to pull.
FROM scratch
ARG TARGETARCH
COPY flatpak-frontend-linux-${TARGETARCH} /bin/flatpak-frontend
LABEL moby.buildkit.frontend.network.none="true"
LABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
ENTRYPOINT ["/bin/flatpak-frontend"]
