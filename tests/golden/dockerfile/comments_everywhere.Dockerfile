# leading comment
FROM busybox
    # indented comment
RUN echo "# not a comment" # nor this
