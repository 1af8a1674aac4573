"""GAN Book's computation package.

Each module backs one chapter of the book and names that chapter in its docstring.
The subpackage `gan_book.book` holds what only the book's build needs (the result
cache and figure helpers); nothing in the computation modules imports it.
"""

__version__ = "0.1.0"
