FROM busybox
RUN <<EOF \
  cat
body
EOF
