FROM busybox
COPY ["<<EOF", "/dst"]
