FROM busybox
RUN echo one \   	
    two
LABEL a=b \
      c=d
