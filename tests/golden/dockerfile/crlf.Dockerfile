FROM busybox
RUN echo a \
  b
RUN <<EOF
line
EOF
