FROM busybox
ENV E=
VOLUME $E
