FROM busybox
CMD ["echo", "hi"]
ENTRYPOINT [ "/bin/sh" , "-c" ]
RUN ["a b", "c\"d", "\u00e9"]
SHELL ["/bin/bash", "-eo", "pipefail", "-c"]
VOLUME ["/data", "/logs"]
COPY ["src file", "dest dir/"]
