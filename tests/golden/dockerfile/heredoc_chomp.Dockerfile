FROM busybox
RUN <<-EOF
	echo tab
		echo two
	EOF
RUN <<EOF
	EOF
EOF
