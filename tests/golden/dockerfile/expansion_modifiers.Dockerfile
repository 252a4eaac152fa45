FROM busybox
ENV P=/usr/local/lib/file.tar.gz E= S="a b"
ENV R1=${P#*/} R2=${P##*/} R3=${P%.*} R4=${P%%.*} R5=${P/l/L} R6=${P//l/L}
ENV D1=${U:-def} D2=${E:-def} D3=${E-def} D4=${U-def}
ENV A1=${P:+alt} A2=${E:+alt} A3=${E+alt} A4=${U+alt}
ENV Q1='$P' Q2="$P" Q3=\$P Q4="\$P" Q5=$$ Q6=${P}x Q7=$Px
ENV W1=$1 W2=$@ W3=${S}
ENV G1=${P#[/u]} G2=${P%?z} G3=${P/\*/x}
