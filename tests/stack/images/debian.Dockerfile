# Real services from Debian 12 packages, laid out like their upstream images so that the real
# docker-compose.yml (command lines, health checks, volume paths, users) runs them unchanged.
# One target per image: docker build --target prometheus -f debian.Dockerfile .
# BASE is the Debian root file system built by tests/stack/build-images.sh.
ARG BASE=local/offline-base:bookworm

# prom/prometheus: /bin/prometheus, busybox wget, runs as nobody, data in /prometheus.
FROM ${BASE} AS prometheus
RUN ln -s /bin/busybox /usr/local/bin/wget \
 && mkdir -p /prometheus /etc/prometheus && chown 65534:65534 /prometheus
USER 65534
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]

# prom/alertmanager: /bin/alertmanager, busybox wget, runs as nobody, data in /alertmanager.
FROM ${BASE} AS alertmanager
RUN ln -s /bin/busybox /usr/local/bin/wget \
 && ln -s /usr/bin/prometheus-alertmanager /bin/alertmanager \
 && mkdir -p /alertmanager /etc/alertmanager && chown 65534:65534 /alertmanager
USER 65534
WORKDIR /alertmanager
EXPOSE 9093
ENTRYPOINT ["/bin/alertmanager"]
CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]

# prom/node-exporter: /bin/node_exporter, busybox wget, runs as nobody.
FROM ${BASE} AS node-exporter
RUN ln -s /bin/busybox /usr/local/bin/wget \
 && ln -s /usr/bin/prometheus-node-exporter /bin/node_exporter
USER 65534
EXPOSE 9100
ENTRYPOINT ["/bin/node_exporter"]

# postgres:15: docker-entrypoint.sh semantics (POSTGRES_* variables, /docker-entrypoint-initdb.d
# on an empty data directory, a socket-only server during initialisation), data in PGDATA.
FROM ${BASE} AS postgres
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data \
    LANG=C.UTF-8
RUN mkdir -p /docker-entrypoint-initdb.d /var/run/postgresql "$PGDATA" \
 && chown -R postgres:postgres /var/run/postgresql /var/lib/postgresql \
 && chmod 3777 /var/run/postgresql && chmod 1777 "$PGDATA"
COPY debian/postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]

# redis:7-alpine: docker-entrypoint.sh drops to the redis user, data in /data.
FROM ${BASE} AS redis
RUN mkdir -p /data && chown redis:redis /data
WORKDIR /data
COPY debian/redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
EXPOSE 6379
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
