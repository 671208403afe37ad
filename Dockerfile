# GrafanaPanel portal image.
# Base images are build arguments so the image also builds from local images where no registry is
# reachable (see tests/stack/ for the offline image set).
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0

FROM ${SDK_IMAGE} AS build
WORKDIR /src
# Restore first, from the project files only, so code changes do not invalidate the package layer.
COPY Directory.Build.props Directory.Packages.props ./
COPY src/GrafanaPanel.Web/GrafanaPanel.Web.csproj src/GrafanaPanel.Web/
RUN dotnet restore src/GrafanaPanel.Web/GrafanaPanel.Web.csproj
COPY wwwroot-assets/ wwwroot-assets/
# Published beside the portal, the catalog a build run anywhere else reads.
COPY deploy/portal/modules.yaml deploy/portal/
COPY src/ src/
# Restored again now that the sources are here: only a project with Razor components gets the framework's own assets
# (_framework/blazor.web.js); restored from the project file alone, the image would serve a page whose scripts 404.
RUN dotnet publish src/GrafanaPanel.Web/GrafanaPanel.Web.csproj -c Release -o /app -p:UseAppHost=false

FROM ${RUNTIME_IMAGE} AS runtime
# The official ASP.NET images have a non-root "app" user with this uid. It reaches the Docker socket
# through the socket's group, added at run time (compose: group_add with DOCKER_GID).
ARG APP_UID=1654
WORKDIR /app
COPY --from=build /app .
# The default module catalog, so the image works on its own; compose mounts deploy/portal over this directory.
COPY deploy/portal/modules.yaml /etc/grafana-panel/modules.yaml
# The backups volume is mounted here; it must belong to the app user or the first backup fails.
# /var/lib/grafana-panel is the portal's own state (compose mounts the panel_state volume there): keys/ holds the
# certificate that encrypts the data-protection keys in the database, https/ the self-signed HTTPS certificate.
RUN mkdir -p /backups /var/lib/grafana-panel/keys /var/lib/grafana-panel/https \
    && chown -R ${APP_UID}:${APP_UID} /backups /var/lib/grafana-panel \
    && chmod 700 /var/lib/grafana-panel/keys /var/lib/grafana-panel/https
ENV ASPNETCORE_HTTP_PORTS=8585 \
    Panel__Https__CertificateDirectory=/var/lib/grafana-panel/https \
    DOTNET_RUNNING_IN_CONTAINER=true \
    Backups__Directory=/backups \
    DataProtection__CertificateDirectory=/var/lib/grafana-panel/keys \
    Modules__CatalogPath=/etc/grafana-panel/modules.yaml
EXPOSE 8585
USER ${APP_UID}
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["dotnet", "/app/GrafanaPanel.Web.dll", "--healthcheck", "http://127.0.0.1:8585/healthz"]
ENTRYPOINT ["dotnet", "/app/GrafanaPanel.Web.dll"]
