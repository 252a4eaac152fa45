FROM busybox
ONBUILD RUN <<EOF
echo triggered
EOF
