# The README's commands, as make targets.
.PHONY: demo test rtcbench

demo: ## set up, then run the offloading demo
	bash scripts/demo.sh

test: ## set up, then run every check CI runs
	bash scripts/test.sh

rtcbench: ## measure robot and desktop beside Python's aiortc (see cmd/rtcbench)
	bash scripts/setup.sh
	go run ./cmd/rtcbench -peer aiortc $(RTCBENCH_FLAGS)
	go run -tags h264 ./cmd/rtcbench -peer aiortc -codec h264 $(RTCBENCH_FLAGS)
