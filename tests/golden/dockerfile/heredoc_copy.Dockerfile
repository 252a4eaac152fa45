FROM busybox
COPY <<EOF /etc/app.conf
key=$VALUE
EOF
COPY --chmod=755 <<"SCRIPT" <<'OTHER' /usr/local/bin/
#!/bin/sh
echo $1
SCRIPT
literal $x
OTHER
