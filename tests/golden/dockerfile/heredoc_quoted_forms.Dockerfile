FROM busybox
RUN <<'EOF'
echo $A
EOF
RUN <<"E"OF
echo $A
EOF
RUN <<E\OF
echo $A
EOF
RUN "<<NOTHEREDOC" echo
