FROM busybox
ENV A=1 B="two words" C='single $q' D=a\ b
ENV LEGACY value with spaces
ENV E=
ENV F="x"y"z" G=${A}
