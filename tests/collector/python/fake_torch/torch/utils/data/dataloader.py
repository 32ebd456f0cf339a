class _BaseDataLoaderIter(object):
    def __init__(self, items):
        self._items = list(items)
        self._profile_name = "enumerate(DataLoader)#{}.__next__".format(self.__class__.__name__)

    def __iter__(self):
        return self

    def __next__(self):
        if not self._items:
            raise StopIteration
        return self._items.pop(0)


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    pass
