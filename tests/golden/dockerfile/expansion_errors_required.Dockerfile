FROM busybox
ENV X="${MISSING:?must be set}"
