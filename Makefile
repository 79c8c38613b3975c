# Shortcuts; the real entry point is dev.py, which needs only Python 3.11.
.PHONY: run test setup ci
run:
	python3 dev.py run
test:
	python3 dev.py test
setup:
	python3 dev.py setup
ci:
	bash .ci/run
