FROM busybox
ARG V=1.2 DIR=/opt/app PORT=8080 U=app SIG=SIGINT NAME=web
ENV HOME_DIR=$DIR
LABEL version=$V "$NAME.label"=x
WORKDIR $DIR
WORKDIR sub/$V
WORKDIR ../up
USER $U:$U
EXPOSE $PORT ${PORT}/udp
VOLUME $DIR/data ["$DIR/json"]
STOPSIGNAL $SIG
COPY --chown=$U:$U --chmod=0755 --from=$NAME src/$V /dst/$V/
ADD --checksum=sha256:$V https://example.com/$V.tar /x/
RUN echo $V && --mount=x
RUN --mount=type=cache,target=cache/$V,id=c-$V echo $V
CMD echo $V
ENTRYPOINT ["echo", "$V"]
HEALTHCHECK CMD echo $V
SHELL ["/bin/$NAME"]
ONBUILD RUN echo $V
