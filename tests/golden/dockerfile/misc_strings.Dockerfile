FROM busybox
MAINTAINER Jane Doe <jane@example.com>
USER 1000:1000
WORKDIR /app dir
STOPSIGNAL SIGTERM
EXPOSE 80 443/tcp   53/udp
