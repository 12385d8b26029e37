# The README's commands, as make targets.
.PHONY: demo test rtcbench

demo: ## set up, then run the offloading demo
	bash scripts/demo.sh

test: ## set up, then run every check CI runs
	bash scripts/test.sh

rtcbench: ## measure robot and desktop beside Python's aiortc, and a robot passing ffmpeg's H.264 through (see cmd/rtcbench)
	bash scripts/setup.sh
	go run ./cmd/rtcbench -peer aiortc $(RTCBENCH_FLAGS)
	go run -tags h264 ./cmd/rtcbench -peer aiortc -codec h264 $(RTCBENCH_FLAGS)
	go run -tags h264 ./cmd/rtcbench -codec h264 -source ffmpeg $(RTCBENCH_FLAGS)
