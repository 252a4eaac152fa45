FROM busybox
RUN apt-get update && \
    # a comment inside
    apt-get install -y \

        curl \
  # indented comment
        git
