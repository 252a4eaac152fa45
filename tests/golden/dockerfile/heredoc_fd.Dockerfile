FROM busybox
RUN 3<<EOF cat /dev/fd/3
from fd three
EOF
