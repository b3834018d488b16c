# The wgtools container image: scratch, holding only our two static
# binaries (/usr/bin/wg, /usr/bin/wg-quick) and the empty directories they
# write to. `make image` writes the same image with no container engine
# (tools/mkimage, which this build stage also runs to lay the files out).
#
#   docker build -t wgtools .
#   docker run -d --name wg0 --cap-add NET_ADMIN --device /dev/net/tun \
#     -v /etc/wireguard/wg0.conf:/etc/wireguard/wg0.conf:ro \
#     wgtools wg-quick up /etc/wireguard/wg0.conf
#
# wg-quick, as the container's PID 1, stays in the foreground and takes the
# interface down on `docker stop`. See the README's "Container image".
FROM golang:1.26 AS build
ARG VERSION=devel
WORKDIR /src
COPY . .
RUN make build VERSION="$VERSION" && \
    cd tools && go run ./mkimage -bin ../bin -version "$VERSION" -rootfs /rootfs

FROM scratch
COPY --from=build /rootfs/ /
ENV PATH=/usr/bin
STOPSIGNAL SIGTERM
CMD ["wg", "--version"]
