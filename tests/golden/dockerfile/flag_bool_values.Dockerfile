FROM busybox
COPY --link=false --parents=true a/./b /c
ADD --link --unpack=false --keep-git-dir=false a.tar /d
