# Local stand-ins for mcr.microsoft.com/dotnet/aspnet:10.0 and sdk:10.0, made from this host's
# .NET installation on the Debian base, so that the repo's Dockerfile builds the portal image
# without a registry (build args SDK_IMAGE / RUNTIME_IMAGE, see docker-compose.offline.yml).
# The build context is a tar stream assembled by tests/stack/build-images.sh:
#   dotnet/           the host's /usr/share/dotnet
#   nuget-packages/   every package the portal's project restores (also for linux-x64). They
#                     are the global packages folder and, through the user-level NuGet.Config,
#                     the only package source, so `dotnet restore` in a build needs no network.
ARG BASE=local/offline-base:bookworm

FROM ${BASE} AS dotnet-common
ENV DOTNET_ROOT=/usr/share/dotnet \
    DOTNET_RUNNING_IN_CONTAINER=true \
    DOTNET_NOLOGO=true \
    DOTNET_CLI_TELEMETRY_OPTOUT=true \
    APP_UID=1654
RUN groupadd --gid=1654 app && useradd --no-log-init --uid=1654 --gid=1654 --create-home app

FROM dotnet-common AS aspnet
ENV ASPNETCORE_HTTP_PORTS=8080
COPY dotnet/dotnet /usr/share/dotnet/dotnet
COPY dotnet/host /usr/share/dotnet/host
COPY dotnet/shared /usr/share/dotnet/shared
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet

FROM dotnet-common AS sdk
# No vulnerability audit (it needs the feed) and no first-run work.
ENV NuGetAudit=false \
    DOTNET_SKIP_FIRST_TIME_EXPERIENCE=true \
    DOTNET_GENERATE_ASPNET_CERTIFICATE=false
COPY dotnet /usr/share/dotnet
COPY nuget-packages /root/.nuget/packages
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
 && mkdir -p /root/.nuget/NuGet \
 && printf '%s\n' '<?xml version="1.0" encoding="utf-8"?>' '<configuration>' '  <packageSources>' '    <clear />' \
      '    <add key="offline" value="/root/.nuget/packages" />' '  </packageSources>' '</configuration>' \
      > /root/.nuget/NuGet/NuGet.Config
