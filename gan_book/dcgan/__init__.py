"""DCGAN in PyTorch: model, data, training engine and command-line interface.

Backs the chapter on DCGAN (Radford, Metz and Chintala, ICLR 2016). Run
`python -m gan_book.dcgan --help` for the command line.
"""

from gan_book.dcgan.config import SUPPORTED_IMAGE_SIZES, DCGANConfig, smoke_config
from gan_book.dcgan.data import load_dataset, load_mnist10k

__all__ = [
    "SUPPORTED_IMAGE_SIZES",
    "DCGANConfig",
    "load_dataset",
    "load_mnist10k",
    "smoke_config",
]
