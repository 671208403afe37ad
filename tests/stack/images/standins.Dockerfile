# Test stand-ins for the services Debian does not package (Grafana, Loki, Tempo, InfluxDB 2,
# cAdvisor, Alloy): small Python programs in standins/, each at its real image's entrypoint
# path, user and data directory. They are test doubles, not the products: see standins/*.py.
# One target per image: docker build --target loki -f standins.Dockerfile .
ARG BASE=local/offline-base:bookworm

FROM ${BASE} AS common
COPY standins/ /opt/standin/
LABEL org.opencontainers.image.description="GrafanaPanel test stand-in, not the real product"

# grafana/grafana: uid 472, /var/lib/grafana, curl for the health check.
FROM common AS grafana
RUN useradd --uid 472 --gid 0 --no-create-home --home-dir /usr/share/grafana grafana \
 && mkdir -p /var/lib/grafana /etc/grafana/provisioning && chown 472:0 /var/lib/grafana
USER 472
EXPOSE 3000
ENTRYPOINT ["/opt/standin/grafana.py"]

# grafana/loki: /usr/bin/loki (also `loki -health`), uid 10001, /loki.
FROM common AS loki
RUN ln -s /opt/standin/loki.py /usr/bin/loki \
 && mkdir -p /loki /etc/loki && chown 10001:10001 /loki
USER 10001
EXPOSE 3100
ENTRYPOINT ["/usr/bin/loki"]
CMD ["-config.file=/etc/loki/local-config.yaml"]

# grafana/tempo 2.9: /tempo, /busybox/wget, uid 10001, /var/tempo.
FROM common AS tempo
RUN ln -s /opt/standin/tempo.py /tempo \
 && mkdir -p /busybox && cp /bin/busybox /busybox/busybox && ln -s busybox /busybox/wget && ln -s busybox /busybox/sh \
 && mkdir -p /var/tempo && chown 10001:10001 /var/tempo
USER 10001
EXPOSE 3200 4317 4318 9411 14250 14268 55678
ENTRYPOINT ["/tempo"]

# influxdb:2.7: setup on first start, then /docker-entrypoint-initdb.d with the influx CLI;
# user influxdb (uid 1000, home /home/influxdb) owns /var/lib/influxdb2 and /etc/influxdb2; curl.
FROM common AS influxdb
RUN ln -s /opt/standin/influxdb.py /entrypoint.sh \
 && mkdir -p /opt/standin/bin && ln -s /opt/standin/influx.py /opt/standin/bin/influx \
 && groupadd -r influxdb --gid=1000 \
 && useradd -r -g influxdb --uid=1000 --create-home --home-dir=/home/influxdb --shell=/bin/bash influxdb \
 && mkdir -p /docker-entrypoint-initdb.d /var/lib/influxdb2 /etc/influxdb2 \
 && chown influxdb:influxdb /var/lib/influxdb2 /etc/influxdb2
EXPOSE 8086
ENTRYPOINT ["/entrypoint.sh"]
CMD ["influxd"]

# ghcr.io/google/cadvisor: /usr/bin/cadvisor, busybox wget.
FROM common AS cadvisor
RUN ln -s /opt/standin/cadvisor.py /usr/bin/cadvisor && ln -s /bin/busybox /usr/local/bin/wget
EXPOSE 8080
ENTRYPOINT ["/usr/bin/cadvisor", "-logtostderr"]

# grafana/alloy: /bin/alloy, bash (no wget or curl); its alloy user (uid 473) owns /var/lib/alloy,
# mode 770, as in the real image.
FROM common AS alloy
RUN ln -s /opt/standin/alloy.py /bin/alloy \
 && groupadd --gid 473 alloy && useradd -m -u 473 -g 473 alloy \
 && mkdir -p /var/lib/alloy/data /etc/alloy \
 && chown -R alloy:alloy /var/lib/alloy && chmod -R 770 /var/lib/alloy
EXPOSE 12345
ENTRYPOINT ["/bin/alloy"]
CMD ["run", "/etc/alloy/config.alloy", "--storage.path=/var/lib/alloy/data"]
