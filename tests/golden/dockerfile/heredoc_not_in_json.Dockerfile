FROM busybox
RUN ["sh", "-c", "cat <<EOF"]
CMD <<EOF
