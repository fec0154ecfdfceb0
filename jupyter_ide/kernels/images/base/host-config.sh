# Sourced by a build step (RUN set -eux; . /usr/local/lib/ide-build/host-config.sh; ...):
# fetch the build host's apt sources, pip config and CA bundle from the builder, which serves
# them on loopback for the length of the build ($IDE_HOST_CONFIG; builds use the host's
# network), point apt and pip at them, and remove them when the step's shell exits. Nothing
# of them reaches a layer: they live only in /tmp/ide-host while the step runs, and the apt
# lists and caches made with them are removed too. Without $IDE_HOST_CONFIG, or when the
# builder cannot be reached (a remote engine), the step uses the image's own settings.

ide_host=/tmp/ide-host
ide_host_cleanup() {
    if [ -s "$ide_host/sources.list.d/ide-host.sources" ]; then
        rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
    fi
    rm -rf "$ide_host"
}
trap ide_host_cleanup EXIT
rm -rf "$ide_host"
mkdir -p -m 0700 "$ide_host/sources.list.d"
if [ -n "${IDE_HOST_CONFIG:-}" ]; then
    for ide_host_file in ide-host.sources pip.conf ca-certificates.crt; do
        /usr/lib/apt/apt-helper -o "Acquire::http::Proxy::127.0.0.1=DIRECT" \
            download-file "$IDE_HOST_CONFIG/$ide_host_file" "$ide_host/$ide_host_file" \
            >/dev/null 2>&1 || rm -f "$ide_host/$ide_host_file"
    done
fi
if [ -s "$ide_host/ide-host.sources" ]; then
    mv "$ide_host/ide-host.sources" "$ide_host/sources.list.d/ide-host.sources"
    : > "$ide_host/sources.list"
    {
        echo "Dir::Etc::SourceList \"$ide_host/sources.list\";"
        echo "Dir::Etc::SourceParts \"$ide_host/sources.list.d\";"
        if [ -s "$ide_host/ca-certificates.crt" ]; then
            echo "Acquire::https::CaInfo \"$ide_host/ca-certificates.crt\";"
        fi
    } > "$ide_host/apt.conf"
    export APT_CONFIG="$ide_host/apt.conf"
fi
if [ -s "$ide_host/pip.conf" ]; then
    export PIP_CONFIG_FILE="$ide_host/pip.conf"
fi
